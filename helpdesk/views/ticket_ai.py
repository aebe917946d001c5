"""AI on a ticket page: the AI panel and its Apply/Dismiss buttons, Improve (description), reply tone and drafts.

Every view parses input, calls one service in helpdesk.services.ticket_ai and renders a fragment of
templates/helpdesk/_ai_panel.html, _composer_ai.html or ai_improve.html. AIUnavailable is never a 500: the
fragment says the AI provider is unavailable and the ticket is untouched. Without JavaScript the POSTs redirect
back to the ticket (or render the Improve page) instead of swapping fragments.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import capability_required
from ai import facade
from core.htmx import render_partial

from .. import live
from ..models import Ticket
from ..selectors import ticket_ai as selectors
from ..services import ticket_ai as services
from ..services.tickets import StaleTicket

PANEL_TEMPLATE = "helpdesk/_ai_panel.html"
COMPOSER_TEMPLATE = "helpdesk/_composer_ai.html"
IMPROVE_TEMPLATE = "helpdesk/ai_improve.html"
FIELD_ID = re.compile(r"[A-Za-z][\w-]{0,59}")
UNAVAILABLE = "The AI provider is unavailable right now; nothing was changed. Try again in a moment."


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = selectors.ticket_get_for_ai(ticket_id=ticket_id)
    if ticket is None:
        raise Http404("No such ticket in this workspace.")
    return ticket


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _back_to_ticket(ticket_id: int) -> HttpResponse:
    url = selectors.ticket_url(ticket_id)
    return redirect(url) if url else redirect("ticket_ai:panel", ticket_id=ticket_id)


def _panel(request: HttpRequest, ticket: Ticket, *, status: int = 200, trigger: dict | None = None) -> HttpResponse:
    panel = selectors.ai_panel(ticket=ticket, user=request.user)
    response = render_partial(request, PANEL_TEMPLATE, "ai-panel", {"panel": panel}, status=status)
    if trigger:
        response["HX-Trigger"] = json.dumps(trigger)
    return response


# --- The panel ------------------------------------------------------------------------------------


@require_GET
@capability_required("tickets.view")
def ticket_ai_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The panel alone: its own refresh (polling while queued, reloads pushed over the websocket)."""
    ticket = _ticket_or_404(ticket_id)
    if request.htmx:
        return _panel(request, ticket)
    panel = selectors.ai_panel(ticket=ticket, user=request.user)
    return render(request, "helpdesk/ai_panel_page.html", {"ticket": ticket, "panel": panel})


@require_POST
@capability_required("tickets.edit")
def ticket_ai_analyse(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Runs the analysis again in the background (after a failure, or after editing the ticket)."""
    ticket = _ticket_or_404(ticket_id)
    if not services.analysis_queue(ticket):
        messages.warning(request, "AI analysis is turned off in the helpdesk settings.")
    if not request.htmx:
        return _back_to_ticket(ticket.pk)
    return _panel(request, _ticket_or_404(ticket_id))


def _decide(request: HttpRequest, ticket_id: int, action) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    kind = request.POST.get("kind", "")
    try:
        ticket = action(ticket=ticket, kind=kind, actor=request.user)
    except ValidationError as error:
        # Decided by someone else meanwhile, the category is gone, or no such suggestion: the panel as it is
        # now, and why (a toast). Status 200 so htmx swaps it, as for the house's invalid forms.
        messages.error(request, _errors(error))
        return _panel(request, _ticket_or_404(ticket_id)) if request.htmx else _back_to_ticket(ticket_id)
    if not request.htmx:
        return _back_to_ticket(ticket.pk)
    response = _panel(request, ticket, trigger={"ticket:changed": {"id": ticket.pk, "field": kind}})
    response.content += live.refresh_oob(ticket, actor=request.user).encode()  # the header shows the new value
    return response


@require_POST
@capability_required("tickets.edit")
def ticket_ai_suggestion_apply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _decide(request, ticket_id, services.suggestion_apply)


@require_POST
@capability_required("tickets.edit")
def ticket_ai_suggestion_dismiss(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _decide(request, ticket_id, services.suggestion_dismiss)


# --- Improve the description ---------------------------------------------------------------------


def _improve_page(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The Improve modal; a problem is shown in it with status 200 for htmx (which swaps only 2xx), and with its
    real status on the plain page."""
    if request.htmx:
        return render_partial(request, IMPROVE_TEMPLATE, "modal-body", context)
    return render(request, IMPROVE_TEMPLATE, context, status=status)


@require_POST
@capability_required("tickets.edit")
def ticket_ai_improve(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The description rewritten as a clear ticket, side by side with the original and a word diff (modal)."""
    ticket = _ticket_or_404(ticket_id)
    try:
        suggestion = services.description_improve(text=ticket.original_description, actor=request.user)
    except facade.AIUnavailable:
        return _improve_page(request, {"ticket": ticket, "error": UNAVAILABLE}, status=503)
    except ValidationError as error:
        return _improve_page(request, {"ticket": ticket, "error": _errors(error)})
    return _improve_page(request, {"ticket": ticket, "suggestion": suggestion})


@require_POST
@capability_required("tickets.edit")
def ticket_ai_improve_accept(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Accept as shown, or the edited text ("Edit then accept"): stored as the improved description."""
    ticket = _ticket_or_404(ticket_id)
    version = request.POST.get("version")
    try:
        ticket, outcome = services.improved_description_accept(
            ticket=ticket,
            actor=request.user,
            run_id=request.POST.get("run_id"),
            text=request.POST.get("text", ""),
            expected_version=int(version) if (version or "").isdigit() else None,
        )
    except ValidationError as error:
        # Shown in the form like any invalid form (200 for htmx, which swaps only 2xx); on the plain page a lost
        # race is a conflict and a result with nothing to improve is refused as unprocessable.
        status = 409 if isinstance(error, StaleTicket) else 422 if isinstance(error, services.NothingToImprove) else 200
        return _improve_page(request, {"ticket": ticket, "error": _errors(error)}, status=status)
    messages.success(request, "Saved the improved description." if outcome == "accepted" else "Saved your edit.")
    if not request.htmx:
        return _back_to_ticket(ticket.pk)
    return _modal_closed(request, ticket)


@require_POST
@capability_required("tickets.edit")
def ticket_ai_improve_reject(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    try:
        services.improved_description_reject(ticket=ticket, actor=request.user, run_id=request.POST.get("run_id"))
    except ValidationError as error:
        return _improve_page(request, {"ticket": ticket, "error": _errors(error)})
    messages.info(request, "Kept the original description.")
    if not request.htmx:
        return _back_to_ticket(ticket.pk)
    return _modal_closed(request, ticket)


def _modal_closed(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """Closes the modal; the ticket page reloads its header and thread (the description is in the thread)."""
    response = HttpResponse(live.refresh_oob(ticket, actor=request.user))
    response["HX-Trigger"] = json.dumps({"modal:close": None, "ticket:changed": {"id": ticket.pk}})
    response["HX-Reswap"] = "none"
    return response


@require_POST
@capability_required("tickets.edit")
def ticket_ai_draft_improve(request: HttpRequest) -> HttpResponse:
    """Improve on the new-ticket form: the typed description restructured, to use or discard (nothing saved)."""
    field_id = request.POST.get("field_id", "")
    # The id of the form's description field, written into selectors and attributes: a plain HTML id only.
    context: dict[str, Any] = {"field_id": field_id if FIELD_ID.fullmatch(field_id) else "id_description"}
    try:
        context["suggestion"] = services.description_improve(
            text=request.POST.get("description", ""), actor=request.user
        )
    except facade.AIUnavailable:
        context["error"] = UNAVAILABLE
    except ValidationError as error:
        context["error"] = _errors(error)
    return render_partial(request, COMPOSER_TEMPLATE, "ai-draft-improve", context)


# --- Reply composer ------------------------------------------------------------------------------


def _composer_result(request: HttpRequest, ticket: Ticket, context: dict[str, Any]) -> HttpResponse:
    return render_partial(request, COMPOSER_TEMPLATE, "composer-ai-result", {"ticket": ticket, **context})


@require_POST
@capability_required("tickets.edit")
def ticket_ai_reply_rewrite(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The reply being typed, in the chosen tone; shown as a suggestion the agent may use."""
    ticket = _ticket_or_404(ticket_id)
    try:
        suggestion = services.reply_rewrite(
            text=request.POST.get("body", ""), style=request.POST.get("style", ""), actor=request.user
        )
    except facade.AIUnavailable:
        return _composer_result(request, ticket, {"error": UNAVAILABLE})
    except ValidationError as error:
        return _composer_result(request, ticket, {"error": _errors(error)})
    return _composer_result(request, ticket, {"suggestion": suggestion})


@require_POST
@capability_required("tickets.edit")
def ticket_ai_reply_draft(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A reply drafted from the knowledge base and similar solved tickets, shown in a card with its public and
    internal sources; it goes into the reply box only when the agent inserts it (static/js/ticket_ai.js)."""
    ticket = _ticket_or_404(ticket_id)
    try:
        draft = services.reply_draft_request(ticket, actor=request.user)
    except facade.AIUnavailable:
        return _composer_result(request, ticket, {"error": UNAVAILABLE})
    if draft is None:
        message = "No knowledge-base article or solved ticket matches this ticket closely enough to draft a reply."
        return _composer_result(request, ticket, {"error": message})
    return _composer_result(request, ticket, {"draft": draft})


@require_POST
@capability_required("tickets.edit")
def ticket_ai_feedback(request: HttpRequest) -> HttpResponse:
    """Discard (rejected) or use (accepted/edited) a composer suggestion that is not tied to a saved reply."""
    try:
        services.suggestion_feedback(
            run_id=request.POST.get("run_id"),
            outcome=request.POST.get("outcome", ""),
            actor=request.user,
            final_text=request.POST.get("text"),
        )
    except ValidationError as error:
        return HttpResponseBadRequest(_errors(error))
    return HttpResponse("")
