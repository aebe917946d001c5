"""Macros: the management page (list, search, sort, create/edit with action rows and a preview), and the composer's
side: the `/` search list, a chosen macro's panel (its reply text rendered for the ticket, what its actions will
change), and applying one without a reply from the ticket's macro menu. Sending a reply with a macro is in
helpdesk.views.tickets.ticket_reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.forms import BootstrapFormMixin
from core.htmx import hx_redirect, render_modal, render_partial, wants_fragment
from core.markdown import markdown_to_html

from ..contracts import TicketActionSpec
from ..models import Macro, Ticket
from ..selectors import macros as selectors
from ..selectors import tickets as ticket_selectors
from ..services import macros as services
from ..services import ticket_actions

LIST_TEMPLATE = "helpdesk/macro_list.html"
FORM_TEMPLATE = "helpdesk/macro_form.html"
DELETE_TEMPLATE = "helpdesk/macro_confirm_delete.html"
COMPOSER_TEMPLATE = "helpdesk/_composer_macros.html"
WORK = "tickets.edit"


class MacroForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=services.MAX_NAME)
    description = forms.CharField(
        required=False, max_length=services.MAX_DESCRIPTION, help_text="When to use it, for whoever picks it."
    )
    reply_text = forms.CharField(
        required=False,
        label="Reply text",
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text="Markdown. Inserted into the reply box, where the agent can still edit it before sending.",
    )
    visibility = forms.ChoiceField(choices=Macro.Visibility.choices, initial=Macro.Visibility.PERSONAL)

    def __init__(self, *args: Any, can_share: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_share:
            self.fields["visibility"].help_text = "Only helpdesk admins can share macros with everyone."
        self.style_fields()


@dataclass
class ActionRow:
    """One row of the form's action list: the action, its value as the input shows it, its spec and errors."""

    index: int
    type: str
    value: str
    spec: TicketActionSpec | None
    errors: list[str] = field(default_factory=list)


def _specs() -> dict[str, TicketActionSpec]:
    return {spec.type: spec for spec in ticket_actions.ticket_action_specs()}


def _shown_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _rows(actions: list[dict], specs: dict[str, TicketActionSpec], errors: dict[str, list[str]] | None = None):
    errors = errors or {}
    return [
        ActionRow(
            index=index,
            type=str(action.get("type", "")),
            value=_shown_value(action.get("value")),
            spec=specs.get(str(action.get("type", ""))),
            errors=errors.get(f"actions.{index}", []),
        )
        for index, action in enumerate(actions)
    ]


def _posted_actions(request: HttpRequest) -> list[dict]:
    """The rows as posted: `action_type` and `action_value` side by side (every row sends one of each)."""
    types, values = request.POST.getlist("action_type"), request.POST.getlist("action_value")
    actions = []
    for index, type_ in enumerate(types):
        if not type_:
            continue  # a row left on "Choose an action…"
        value = values[index] if index < len(values) else ""
        actions.append({"type": type_} if type_ == "assign_team_lead" else {"type": type_, "value": value})
    return actions


def _macro_for_edit(request: HttpRequest, macro_id: int) -> Macro:
    try:
        macro = selectors.macro_get(user=request.user, macro_id=macro_id)
    except Macro.DoesNotExist:
        raise Http404("No such macro.") from None
    if not services.macro_editable(macro, request.user):
        raise PermissionDenied("Only helpdesk admins can change shared macros.")
    return macro


def _ticket_or_404(ticket_id: int) -> Ticket:
    try:
        return ticket_selectors.ticket_get(ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket in this workspace.") from None


def _usable_or_404(request: HttpRequest, macro_id: int) -> Macro:
    try:
        return selectors.macro_get(user=request.user, macro_id=macro_id)
    except Macro.DoesNotExist:
        raise Http404("No such macro.") from None


# --- Management ---------------------------------------------------------------------------------


@require_GET
@capability_required(WORK)
def macro_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "name")
    sort = sort if sort in selectors.SORTS else "name"
    macros = selectors.macro_list(user=request.user, query=query, sort=sort)
    can_share = user_can(request.user, services.SHARE_CAPABILITY)
    context = {
        "macros": macros,
        "editable": {macro.pk for macro in macros if services.macro_editable(macro, request.user)},
        "query": query,
        "sort": sort,
        "sorts": {key: label for key, (label, _order) in selectors.SORTS.items()},
        "can_share": can_share,
    }
    if wants_fragment(request, "macro-table"):
        return render_partial(request, LIST_TEMPLATE, "macro-table", context)
    return render(request, LIST_TEMPLATE, context)


def _form_page(request: HttpRequest, macro: Macro | None) -> HttpResponse:
    can_share = user_can(request.user, services.SHARE_CAPABILITY)
    specs = _specs()
    if request.method == "POST":
        form = MacroForm(request.POST, can_share=can_share)
        actions = _posted_actions(request)
        if form.is_valid():
            data = form.cleaned_data
            values = {key: data[key] for key in ("name", "description", "reply_text", "visibility")}
            try:
                if macro is None:
                    saved = services.macro_create(actor=request.user, actions=actions, **values)
                else:
                    saved = services.macro_update(macro=macro, actor=request.user, actions=actions, **values)
            except ValidationError as error:
                errors = error.message_dict
                for key, messages_ in errors.items():
                    if key in form.fields:
                        form.add_error(key, messages_)
                    elif not key.startswith("actions."):
                        form.add_error(None, messages_)
                rows = _rows(actions, specs, errors)
            else:
                messages.success(request, f"Saved the macro “{saved.name}”.")
                return hx_redirect(request, reverse("macros:macro_list"))
        else:
            rows = _rows(actions, specs)
    else:
        initial = {}
        if macro is not None:
            initial = {key: getattr(macro, key) for key in ("name", "description", "reply_text", "visibility")}
        form = MacroForm(initial=initial, can_share=can_share)
        rows = _rows(list(macro.actions) if macro is not None else [], specs)
    context = {
        "form": form,
        "macro": macro,
        "rows": rows,
        "specs": specs.values(),
        "placeholders": ticket_actions.TICKET_PLACEHOLDERS,
        "sample": selectors.macro_sample_ticket(),
        "can_share": can_share,
    }
    return render(request, FORM_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@capability_required(WORK)
def macro_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
@capability_required(WORK)
def macro_update(request: HttpRequest, macro_id: int) -> HttpResponse:
    return _form_page(request, _macro_for_edit(request, macro_id))


@require_http_methods(["GET", "POST"])
@capability_required(WORK)
def macro_delete(request: HttpRequest, macro_id: int) -> HttpResponse:
    macro = _macro_for_edit(request, macro_id)
    if request.method == "POST":
        services.macro_delete(macro=macro, actor=request.user)
        messages.success(request, f"Deleted the macro “{macro.name}”.")
        return hx_redirect(request, reverse("macros:macro_list"))
    return render_modal(request, DELETE_TEMPLATE, {"macro": macro})


@require_GET
@capability_required(WORK)
def macro_action_row(request: HttpRequest) -> HttpResponse:
    """One action row for the form ("Add action", or the row again with the inputs of the type just chosen)."""
    type_ = request.GET.get("action_type", "")
    specs = _specs()
    row = ActionRow(index=0, type=type_, value="", spec=specs.get(type_))
    return render_partial(request, FORM_TEMPLATE, "macro-action-row", {"row": row, "specs": specs.values()})


@require_POST
@capability_required(WORK)
def macro_preview(request: HttpRequest) -> HttpResponse:
    """The form's reply text rendered for a sample ticket (the newest, or the one named) and what its actions would
    change there; nothing is saved or applied."""
    try:
        ticket_id = int(request.POST.get("sample_ticket") or 0) or None
    except ValueError:
        ticket_id = None
    sample = selectors.macro_sample_ticket(ticket_id=ticket_id)
    context: dict[str, Any] = {"sample": sample, "problems": [], "sentences": [], "preview_html": ""}
    if sample is None:
        return render_partial(request, FORM_TEMPLATE, "macro-preview", context)
    try:
        text = services.reply_text_check(request.POST.get("reply_text", ""))
        context["preview_html"] = markdown_to_html(
            selectors.macro_reply_render(reply_text=text, ticket_id=sample.pk, actor_id=request.user.pk)
        )
        result = selectors.macro_dry_run(
            macro=Macro(), ticket_id=sample.pk, actor_id=request.user.pk, actions=_posted_actions(request)
        )
        context["sentences"] = selectors.change_sentences(result)
    except ValidationError as error:
        context["problems"] = error.messages
    return render_partial(request, FORM_TEMPLATE, "macro-preview", context)


# --- Composer -----------------------------------------------------------------------------------


@require_GET
@capability_required(WORK)
def macro_search(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The `/` list (and the macro menu, `menu=1`): the person's macros, most used first."""
    ticket = _ticket_or_404(ticket_id)
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "ticket": ticket,
        "macros": selectors.macro_search(user=request.user, query=query),
        "query": query,
    }
    partial = "macro-menu-items" if request.GET.get("menu") else "macro-options"
    return render_partial(request, COMPOSER_TEMPLATE, partial, context)


def panel_context(request: HttpRequest, ticket: Ticket, macro: Macro) -> dict[str, Any]:
    """A chosen macro's panel in the composer: its text for this ticket, and what its actions will change."""
    context: dict[str, Any] = {"ticket": ticket, "macro": macro, "sentences": [], "problems": []}
    context["macro_text"] = selectors.macro_reply_render(
        reply_text=macro.reply_text, ticket_id=ticket.pk, actor_id=request.user.pk
    )
    try:
        result = selectors.macro_dry_run(macro=macro, ticket_id=ticket.pk, actor_id=request.user.pk)
        context["sentences"] = selectors.change_sentences(result)
    except ValidationError as error:
        context["problems"] = error.messages
    return context


@require_GET
@capability_required(WORK)
def macro_insert(request: HttpRequest, ticket_id: int, macro_id: int) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    macro = _usable_or_404(request, macro_id)
    return render_partial(request, COMPOSER_TEMPLATE, "macro-panel", panel_context(request, ticket, macro))


@require_http_methods(["GET", "POST"])
@capability_required(WORK)
def macro_apply(request: HttpRequest, ticket_id: int, macro_id: int) -> HttpResponse:
    """From the ticket's macro menu, without a reply: GET shows what it will change, POST applies it."""
    ticket = _ticket_or_404(ticket_id)
    macro = _usable_or_404(request, macro_id)
    if request.method == "POST":
        try:
            result = services.macro_apply(macro=macro, ticket=ticket, actor=request.user)
        except ValidationError as error:
            context = panel_context(request, ticket, macro) | {"problems": error.messages}
            return render_partial(request, COMPOSER_TEMPLATE, "macro-apply-panel", context)
        changed = len(result.changes) + result.note_added
        messages.success(request, f"Applied the macro “{macro.name}” ({changed} change{'s' if changed != 1 else ''}).")
        if not request.htmx:
            return redirect("tickets:ticket_detail", ticket_id=ticket.pk)
        # The header, thread and SLA card as they are now, without reloading the page: a reply being written stays.
        from .tickets import header_and_thread  # helpdesk.views.tickets imports this module

        response = header_and_thread(request, _ticket_or_404(ticket.pk))
        response.content += render_to_string(f"{COMPOSER_TEMPLATE}#macro-apply-slot", {"oob": True}).encode()
        return retarget(reswap(response, "innerHTML"), "#ticket-header-slot")
    return render_partial(request, COMPOSER_TEMPLATE, "macro-apply-panel", panel_context(request, ticket, macro))
