"""The builder's Copilot panel (a lazily loaded HTMX fragment) and its actions: add a suggested product, use the
suggested summary as the quote's notes, record a copy or a dismissal. Each action is AI feedback on the
suggestion's run (quotes.services_copilot); adding and using carry the builder's version like every builder write.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.htmx import hx_redirect

from . import copilot, services, services_copilot
from .views import _conflict, _quote_or_404, _refused, _version, line_added, quote_url

PANEL_TEMPLATE = "quotes/_copilot_panel.html"
DONE_TEMPLATE = "quotes/_copilot_done.html"


@require_GET
@capability_required("quotes.view")
def copilot_panel(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = _quote_or_404(quote_id)
    report = copilot.quote_copilot(quote, user=request.user, show_margin=user_can(request.user, "quotes.margin"))
    can_edit = user_can(request.user, "quotes.edit") and quote.editable
    return render(request, PANEL_TEMPLATE, {"quote": quote, "report": report, "can_edit": can_edit})


def _done(run_id: str, text: str) -> str:
    """The suggestion's row, replaced out of band by what happened to it."""
    return render_to_string(DONE_TEMPLATE, {"run_id": int(run_id), "text": text})


@require_POST
@capability_required("quotes.edit")
def copilot_add(request: HttpRequest, quote_id: int) -> HttpResponse:
    """One click: the suggested product becomes the quote's last line; the suggestion is recorded as accepted."""
    quote = _quote_or_404(quote_id)
    run_id = request.POST.get("run_id", "")
    try:
        line = services_copilot.copilot_product_add(
            quote=quote,
            product_id=request.POST.get("product"),
            run_id=run_id,
            actor=request.user,
            expected_version=_version(request),
        )
    except services.StaleQuote:
        return _conflict(request, quote_id, request.path)
    except ValidationError as error:
        return _refused(request, quote_id, error)
    return line_added(request, quote_id, line.pk, _done(run_id, "Added to the quote.") if run_id.isdigit() else "")


@require_POST
@capability_required("quotes.edit")
def copilot_use(request: HttpRequest, quote_id: int) -> HttpResponse:
    """The suggested summary (as shown, or as the person edited it) becomes the quote's notes."""
    quote = _quote_or_404(quote_id)
    try:
        services_copilot.copilot_notes_use(
            quote=quote,
            run_id=request.POST.get("run_id"),
            text=request.POST.get("text", ""),
            actor=request.user,
            expected_version=_version(request),
        )
    except services.StaleQuote:
        return _conflict(request, quote_id, request.path)
    except ValidationError as error:
        return _refused(request, quote_id, error)
    messages.success(request, "The summary is now the quote's notes.")
    return hx_redirect(request, quote_url(quote_id))


@require_POST
@capability_required("quotes.edit")
def copilot_feedback(request: HttpRequest, quote_id: int) -> HttpResponse:
    """A dismissal ("rejected": the row goes) or a copy of the email ("accepted": nothing to swap)."""
    quote = _quote_or_404(quote_id)
    outcome = "rejected" if request.POST.get("outcome") == "rejected" else "accepted"
    run_id = request.POST.get("run_id", "")
    try:
        services_copilot.copilot_feedback_record(quote=quote, run_id=run_id, outcome=outcome, actor=request.user)
    except ValidationError as error:
        return _refused(request, quote_id, error)
    if outcome == "rejected":
        return HttpResponse(_done(run_id, "Dismissed."))
    return HttpResponse(status=204)
