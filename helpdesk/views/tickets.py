"""The agent workspace: ticket list with saved views and bulk actions, new-ticket form, ticket detail with its
header, thread and composer, attachment downloads. Each view parses input, calls a service or selector, renders.

Fragments follow customers/views.py: a partial's name is the DOM id it replaces; modal forms go into #modal-body
and answer 200 with their errors so htmx swaps them. Field edits carry the version the editor saw: when someone
else changed the ticket meanwhile (StaleTicket) the header comes back with the fresh values and what the person
tried to change, ready to apply again: nothing is lost and nothing is silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, trigger_client_event

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.day_ranges import day_range_chips, day_range_inputs
from core.forms import add_service_errors
from core.htmx import hx_redirect, render_modal, render_partial, wants_fragment
from core.markdown import markdown_to_html
from core.realtime import topic_dom_id, topics_query
from core.saved_views import matching_view, params_from_query_string, query_string
from customers.facade import CUSTOMER_TIER_CHOICES

from .. import live
from ..forms import (
    DAY_RANGES,
    UPDATE_FIELDS,
    BulkForm,
    ListQuery,
    PreviewForm,
    ReplyForm,
    SavedViewForm,
    TicketCreateForm,
    TicketEditForm,
    list_query,
)
from ..models import Attachment, Macro, SavedView, Ticket
from ..selectors import macros as macro_selectors
from ..selectors import tickets as selectors
from ..services import macros as macro_services
from ..services import saved_views as saved_view_services
from ..services import tickets as services
from . import macros as macro_views

LIST_TEMPLATE = "helpdesk/ticket_list.html"
DETAIL_TEMPLATE = "helpdesk/ticket_detail.html"
FORM_TEMPLATE = "helpdesk/ticket_form.html"
VIEW_FORM_TEMPLATE = "helpdesk/ticket_view_form.html"
VIEW_DELETE_TEMPLATE = "helpdesk/ticket_view_confirm_delete.html"
PAGE_SIZE = 50
# The list's row density, per browser: "compact" puts one line a row (15+ rows above the fold at 1440×900).
DENSITY_COOKIE = "sb_ticket_density"
DENSITY_MAX_AGE = 365 * 24 * 3600
SORTABLE = ("created", "updated", "priority", "due")
TIER_NAMES = dict(CUSTOMER_TIER_CHOICES)

# The rail's built-in views: key, name, icon, the list parameters they stand for.
BUILTIN_VIEWS = (
    ("my-open", "My open", "person-check", {"assignee": "me", "status": "unsolved"}),
    ("unassigned", "Unassigned", "person-dash", {"assignee": "none", "status": "unsolved"}),
    ("breaching", "Breaching soon", "alarm", {"sla": "breaching", "sort": "due"}),
    ("open", "All open", "inbox", {"status": "unsolved"}),
    ("all", "All", "collection", {}),
    ("solved", "Solved", "check2-circle", {"status": "done"}),
)


@dataclass(frozen=True)
class RailView:
    key: str
    name: str
    icon: str
    query: str
    count: int
    capped: bool
    active: bool
    saved: SavedView | None = None
    deletable: bool = False


# --- Helpers ------------------------------------------------------------------------------------


def _capabilities(user) -> dict[str, bool]:
    return {"can_edit": user_can(user, "tickets.edit"), "can_share_views": user_can(user, "helpdesk.configure")}


def _ticket_or_404(ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_get(ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket in this workspace.") from None


def _sort_links(sort: str) -> dict[str, dict[str, Any]]:
    """For each sortable column: the sort its header sets (a second click reverses it) and whether it is active.
    Dates and priority start with the newest / most urgent; "due" starts with the nearest."""
    links = {}
    for field in SORTABLE:
        active = sort.lstrip("-") == field
        descending = active and sort.startswith("-")
        first_click = field if field == "due" else f"-{field}"
        param = (field if descending else f"-{field}") if active else first_click
        links[field] = {"param": param, "active": active, "desc": descending}
    return links


def _view_query(params: dict, user) -> ListQuery:
    """A rail view's query. The rail parses six or more on every list page (a form each, a fifth of the page's
    CPU), always the same ones: parsed once per process, for the user they depend on ("me")."""
    if all(isinstance(value, str) for value in params.values()):
        return _parsed_view_query(tuple(sorted(params.items())), connection.schema_name, user)
    return list_query(params, user=user)


@lru_cache(maxsize=2048)
def _parsed_view_query(params: tuple[tuple[str, str], ...], workspace: str, user) -> ListQuery:
    # The parse reads no database, but users of two workspaces can share an id (and so compare equal): the
    # workspace is part of the key so that no entry is ever shared between them.
    return list_query(dict(params), user=user)


def _rail(user, current: dict[str, str]) -> list[RailView]:
    """Built-in and saved views with their counts (one query for all counts) and the one the list shows now."""
    saved = selectors.saved_view_list(user=user)
    entries = [(key, name, icon, params, None) for key, name, icon, params in BUILTIN_VIEWS]
    entries += [(f"view-{view.pk}", view.name, "bookmark", view.filters or {}, view) for view in saved]
    queries = [_view_query(params, user) for *_, params, _ in entries]
    counts = selectors.ticket_counts([query.filters for query in queries])

    keyed = ((entry[0], query.params) for entry, query in zip(entries, queries, strict=True))
    active_key = matching_view(keyed, current)
    can_share = user_can(user, "helpdesk.configure")
    return [
        RailView(
            key=key,
            name=name,
            icon=icon,
            query=query_string(query.params),
            count=count,
            capped=capped,
            active=key == active_key,
            saved=view,
            deletable=view is not None and (view.owner_id == user.pk or (view.shared and can_share)),
        )
        for (key, name, icon, _, view), query, (count, capped) in zip(entries, queries, counts, strict=True)
    ]


# --- List ---------------------------------------------------------------------------------------


@require_GET
@capability_required("tickets.view")
def ticket_list(request: HttpRequest) -> HttpResponse:
    query = list_query(request.GET, user=request.user)
    page = selectors.ticket_list(filters=query.filters, sort=query.sort, cursor=query.cursor, page_size=PAGE_SIZE)
    field, descending = selectors.parse_sort(query.sort, searching=bool(selectors.search_query(query.filters.q)))
    sort = f"-{field}" if descending else field
    context = {
        "page": page,
        "filters": query.filters,
        "params": query.params,
        "sort": sort,
        "sort_links": _sort_links(sort),
        # Live rows are inserted on top only where a new ticket belongs: first page, newest first, and filters the
        # browser can check (a dashboard's dates and dimensions it cannot).
        "live_inserts": not query.cursor and sort == "-created" and not query.filters.drilled,
        "day_ranges": day_range_inputs(query.params, DAY_RANGES),
        "day_chips": day_range_chips(query.params, DAY_RANGES),
        "drill_chips": _drill_chips(query.params),
        "rail": _rail(request.user, query.params),
        "options": selectors.ticket_filter_options(),
        "status_choices": Ticket.Status.choices,
        "priority_choices": Ticket.Priority.choices,
        "channel_choices": Ticket.Channel.choices,
        "compact": request.COOKIES.get(DENSITY_COOKIE) == "compact",
        **_capabilities(request.user),
    }
    # Filters and searches swap the table (the search box keeps its focus), view links the filters too; the rail
    # follows out of band, its active view and counts current.
    for fragment in ("ticket-table", "ticket-main"):
        if wants_fragment(request, fragment):
            html = render_to_string(f"{LIST_TEMPLATE}#{fragment}", context, request=request)
            rail = render_to_string(f"{LIST_TEMPLATE}#ticket-rail", context | {"oob": True}, request=request)
            return HttpResponse(html + rail)
    context["live_topics"] = topics_query(live.LIST_TOPIC, user_id=request.user.pk)  # rows pushed to the list
    return render(request, LIST_TEMPLATE, context)


def _drill_chips(params: dict[str, str]) -> list[tuple[str, str]]:
    """(text, the list's query without it) of the dashboard's other filters the form has no control for."""
    texts = {
        "tier": lambda value: "No company" if value == "none" else f"Tier: {TIER_NAMES.get(value, value)}",
        "csat": lambda value: "Satisfaction answered",
        "rating": lambda value: f"Rated {value} of 5",
    }
    return [
        (texts[key](params[key]), query_string({name: value for name, value in params.items() if name != key}))
        for key in texts
        if key in params
    ]


@require_POST
@capability_required("tickets.view")
def ticket_list_density(request: HttpRequest) -> HttpResponse:
    """Compact or comfortable rows, remembered in a cookie; back to the list as it was."""
    density = "compact" if request.POST.get("density") == "compact" else "comfortable"
    target = request.POST.get("next", "")
    if not target.startswith(reverse("tickets:ticket_list")) or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        target = reverse("tickets:ticket_list")
    response = redirect(target)
    response.set_cookie(
        DENSITY_COOKIE, density, max_age=DENSITY_MAX_AGE, samesite="Lax", httponly=True, secure=request.is_secure()
    )
    return response


@require_POST
@capability_required("tickets.edit")
def ticket_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, set status, add tags or merge the selected tickets; then the table reloads with its filters."""
    form = BulkForm(request.POST, user=request.user)
    if not form.is_valid():
        return _bulk_result(request, error=form.error_text())
    data = form.cleaned_data
    tickets = selectors.tickets_for_bulk(ticket_ids=data["ids"])
    if not tickets:
        return _bulk_result(request, error="Those tickets no longer exist.")
    try:
        text = _bulk_apply(request.user, data, tickets)
    except ValidationError as error:
        return _bulk_result(request, error=" ".join(error.messages))
    messages.success(request, text)
    if not request.htmx:
        return redirect(request.POST.get("next") or reverse("tickets:ticket_list"))
    return _bulk_result(request)


def _bulk_apply(user, data: dict[str, Any], tickets: list[Ticket]) -> str:
    action = data["action"]
    if action == "merge":
        target = next(ticket for ticket in tickets if ticket.pk == data["target"])
        sources = [ticket for ticket in tickets if ticket.pk != target.pk]
        services.tickets_merge(target=target, sources=sources, actor=user)
        return f"Merged {_count(len(sources))} into #{target.pk}."
    change: dict[str, Any] = {}
    if action == "assign":
        change["assignee"] = data["assignee"]
    elif action == "status":
        change["status"] = data["status"]
    else:
        change["add_tags"] = data["tags"]
    changed = services.tickets_bulk_update(tickets=tickets, actor=user, **change)
    return f"Updated {_count(changed)}." if changed else "Nothing to change: the tickets already were that way."


def _bulk_result(request: HttpRequest, *, error: str = "") -> HttpResponse:
    """The bulk bar's message (an error, or cleared), and on success a `tickets:refresh` for the table."""
    html = render_to_string(f"{LIST_TEMPLATE}#ticket-bulk-error", {"error": error, "oob": True}, request=request)
    response = HttpResponse(html)
    if not error:
        trigger_client_event(response, "tickets:refresh")
    return reswap(response, "none")


def _count(number: int) -> str:
    return f"{number} ticket{'' if number == 1 else 's'}"


# --- Saved views --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("tickets.view")
def saved_view_create(request: HttpRequest) -> HttpResponse:
    can_share = user_can(request.user, "helpdesk.configure")
    # The "Save view" button sends the list's filter form: what the list shows now.
    initial = {"filters": query_string(list_query(request.GET, user=request.user).params)}
    form = SavedViewForm(request.POST if request.method == "POST" else None, initial=initial, can_share=can_share)
    if request.method == "POST" and form.is_valid():
        params = form.view_params(user=request.user)
        try:
            view = saved_view_services.saved_view_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                filters=params,
                shared=form.cleaned_data.get("shared"),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return hx_redirect(request, f"{reverse('tickets:ticket_list')}?{query_string(params)}")
    return render_modal(request, VIEW_FORM_TEMPLATE, {"form": form})


@require_http_methods(["GET", "POST"])
@capability_required("tickets.view")
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    try:
        view = selectors.saved_view_get(view_id=view_id)
    except SavedView.DoesNotExist:
        raise Http404("No such view.") from None
    if view.owner_id != request.user.pk:
        if not view.shared:
            raise Http404("No such view.")  # someone else's personal view: not even its existence shows
        if not user_can(request.user, "helpdesk.configure"):
            raise PermissionDenied("Only its owner or a helpdesk admin may delete a shared view.")
    if request.method == "POST":
        saved_view_services.saved_view_delete(view=view, actor=request.user)
        messages.success(request, f"Deleted the view “{view.name}”.")
        return hx_redirect(request, reverse("tickets:ticket_list"))
    return render_modal(request, VIEW_DELETE_TEMPLATE, {"view": view})


# --- New ticket ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("tickets.edit")
def ticket_create(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = TicketCreateForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            ticket = services.ticket_create(actor=request.user, channel=Ticket.Channel.WEB, **form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Created ticket #{ticket.pk}.")
            return hx_redirect(request, reverse("tickets:ticket_detail", args=[ticket.pk]))
    return render_modal(request, FORM_TEMPLATE, {"form": form})


@require_GET
@capability_required("tickets.edit")
def requester_suggestions(request: HttpRequest) -> HttpResponse:
    """Contacts matching what is typed in the requester box, as the <datalist> it offers."""
    contacts = selectors.requester_suggestions(text=request.GET.get("requester_email", ""))
    return render_partial(request, FORM_TEMPLATE, "requester-options", {"contacts": contacts})


# --- Detail -------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    topic = f"ticket.{ticket.pk}"
    return {
        "ticket": ticket,
        "due": selectors.ticket_due(ticket),
        "thread": selectors.ticket_thread(ticket=ticket),
        "related": selectors.ticket_related(ticket=ticket),
        "options": selectors.ticket_filter_options(),
        "live_topics": topics_query(topic, user_id=request.user.pk),
        "presence_id": topic_dom_id(topic),
        "reply_form": _reply_form(ticket, list_params=request.GET.get("list", "")),
        "reply_route": selectors.reply_route(ticket),
        **_capabilities(request.user),
        **extra,
    }


def _reply_form(ticket: Ticket, *, kind: str = "reply", list_params: str = "") -> ReplyForm:
    """An empty composer, its recipients prefilled: the requester, and the ticket's CCs."""
    initial = {"kind": kind, "to": ticket.requester.email, "cc": ", ".join(ticket.cc), "list": list_params[:2000]}
    return ReplyForm(initial=initial)


def _header_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "due": selectors.ticket_due(ticket),
        "options": selectors.ticket_filter_options(),
        **_capabilities(request.user),
        **extra,
    }


@require_GET
@capability_required("tickets.view")
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    return render(request, DETAIL_TEMPLATE, _detail_context(request, ticket))


def _header_and_thread(request: HttpRequest, ticket: Ticket, **extra: Any) -> HttpResponse:
    """The header in place; the thread, the SLA card and the status hint out of band: what changes with the ticket."""
    header = render_to_string(f"{DETAIL_TEMPLATE}#ticket-header", _header_context(request, ticket, **extra), request)
    thread_context = {"ticket": ticket, "thread": selectors.ticket_thread(ticket=ticket), "oob": True}
    thread = render_to_string(f"{DETAIL_TEMPLATE}#ticket-thread", thread_context, request=request)
    return HttpResponse(header + thread + _side_oob(request, ticket, status_hint=True))


def header_and_thread(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """For another view of the ticket page that changed the ticket (a macro applied from the menu)."""
    return _header_and_thread(request, ticket)


def _side_oob(request: HttpRequest, ticket: Ticket, *, status_hint: bool) -> str:
    """The SLA card and (for editors, whose page has the composer it sits in) the status hint, out of band."""
    context = {"ticket": ticket, "oob": True}
    html = render_to_string(f"{DETAIL_TEMPLATE}#sla-card", context, request=request)
    if status_hint and user_can(request.user, "tickets.edit"):
        html += render_to_string(f"{DETAIL_TEMPLATE}#status-hint", context, request=request)
    return html


@require_GET
@capability_required("tickets.view")
def ticket_refresh(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The header and thread as they are now, for a page told over the websocket that the ticket changed."""
    return _header_and_thread(request, _ticket_or_404(ticket_id))


@require_POST
@capability_required("tickets.edit")
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Changes the fields the request carries (one select saves itself alone), checked against its version."""
    ticket = _ticket_or_404(ticket_id)
    form = TicketEditForm(request.POST, user=request.user)
    if not form.is_valid():
        return _edited(request, ticket, errors=_error_list(form))
    try:
        _apply_edits(ticket, actor=request.user, changes=form.submitted(), version=form.cleaned_data["version"])
    except services.StaleTicket:
        conflict = {"attempted": form.submitted_labels(), "retry": _retry_values(request)}
        return _edited(request, _ticket_or_404(ticket_id), status=409, conflict=conflict)
    except ValidationError as error:
        add_service_errors(form, error)
        return _edited(request, _ticket_or_404(ticket_id), errors=_error_list(form))
    if not request.htmx:
        messages.success(request, f"Saved #{ticket.pk}.")
        return redirect("tickets:ticket_detail", ticket_id=ticket.pk)
    return _header_and_thread(request, _ticket_or_404(ticket_id))


def _edited(request: HttpRequest, ticket: Ticket, *, status: int = 200, **extra: Any) -> HttpResponse:
    """The header with a notice (errors, or someone else's change): in place for htmx (which swaps only 2xx
    answers), as the whole page with a telling status otherwise."""
    if request.htmx:
        return _header_and_thread(request, ticket, **extra)
    return render(request, DETAIL_TEMPLATE, _detail_context(request, ticket, **extra), status=status)


def _error_list(form: TicketEditForm) -> list[str]:
    return [message for messages_ in form.errors.values() for message in messages_]


def _apply_edits(ticket: Ticket, *, actor, changes: dict[str, Any], version: int) -> None:
    """One request may change plain fields, the assignee and the status: all or nothing, each step checked
    against the version the previous one left (the first against the editor's)."""
    with transaction.atomic():
        fields = {name: changes[name] for name in UPDATE_FIELDS if name in changes}
        if fields:
            ticket = services.ticket_update(ticket=ticket, actor=actor, data=fields, expected_version=version)
            version = ticket.version
        if "assignee" in changes:
            ticket = services.ticket_assign(
                ticket=ticket, assignee=changes["assignee"], actor=actor, expected_version=version
            )
            version = ticket.version
        if changes.get("status"):
            services.ticket_status_set(ticket=ticket, status=changes["status"], actor=actor, expected_version=version)


def _retry_values(request: HttpRequest) -> list[tuple[str, str]]:
    return [(name, value) for name, value in request.POST.items() if name not in {"version", "csrfmiddlewaretoken"}]


@require_POST
@capability_required("tickets.edit")
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A public reply or an internal note, optionally setting the status in the same step; "send and next" then
    opens the next ticket of the agent's list."""
    ticket = _ticket_or_404(ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    macro = _chosen_macro(request, form) if form.is_valid() else None
    if form.is_valid():
        data = form.cleaned_data
        route = selectors.reply_route(ticket)
        recipients = form.recipients() if route.addresses else {}
        try:
            # With a macro: the reply, then the macro's actions, then the status the agent sent with (theirs has the
            # last word), all or nothing.
            with transaction.atomic():
                message = services.message_add(
                    ticket=ticket,
                    actor=request.user,
                    body=data["body"],
                    kind=data["kind"],
                    attachments=data["attachments"],
                    status=None if macro else data["status"] or None,
                    ai_run_id=data.get("ai_run_id"),
                    source=macro_services.macro_source(macro) if macro else "",
                    **recipients,
                )
                if macro is not None:
                    macro_services.macro_apply(macro=macro, ticket=ticket, actor=request.user)
                    if data["status"]:
                        services.ticket_status_set(ticket=ticket, status=data["status"], actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if data["then"] == "next":
                return _to_next(request, ticket, message.kind, data["list"])
            return _replied(request, ticket, message.kind)
    macro_panel = _macro_panel(request, ticket, form)
    if not request.htmx:
        return render(request, DETAIL_TEMPLATE, _detail_context(request, ticket, reply_form=form) | macro_panel)
    context = {"ticket": ticket, "reply_form": form, "reply_route": selectors.reply_route(ticket), **macro_panel}
    return render_partial(request, DETAIL_TEMPLATE, "ticket-composer", context | _capabilities(request.user))


def _chosen_macro(request: HttpRequest, form: ReplyForm) -> Macro | None:
    """The macro the agent chose with `/` (None without one); a macro gone since is an error on the form."""
    macro_id = form.cleaned_data.get("macro")
    if not macro_id:
        return None
    try:
        return macro_selectors.macro_get(user=request.user, macro_id=macro_id)
    except Macro.DoesNotExist:
        form.add_error(None, "The macro you chose is no longer available: remove it, then send again.")
        return None


def _macro_panel(request: HttpRequest, ticket: Ticket, form: ReplyForm) -> dict[str, Any]:
    """A composer sent back with errors keeps its macro panel (and the macro's hidden field)."""
    # From the posted data: an error on the macro takes it out of cleaned_data.
    macro_id = str(form.data.get("macro", "")).strip()
    if not macro_id.isdigit():
        return {}
    try:
        macro = macro_selectors.macro_get(user=request.user, macro_id=macro_id)
    except Macro.DoesNotExist:
        return {}
    return {"macro_panel": macro_views.panel_context(request, ticket, macro)}


def _to_next(request: HttpRequest, ticket: Ticket, kind: str, list_params: str) -> HttpResponse:
    """After "send and next": the next ticket of the list (which carries the list along), or the list itself."""
    noun = "Note added" if kind == "note" else "Reply sent"
    params = params_from_query_string(list_params)
    query = list_query(params, user=request.user)
    following = selectors.ticket_next(after=ticket, user=request.user, filters=query.filters, sort=query.sort)
    back = query_string(query.params)
    if following is None:
        messages.success(request, f"{noun} on #{ticket.pk}. No other open ticket for you in this list.")
        return hx_redirect(request, reverse("tickets:ticket_list") + (f"?{back}" if back else ""))
    messages.success(request, f"{noun} on #{ticket.pk}. Next: #{following.pk}.")
    url = reverse("tickets:ticket_detail", args=[following.pk])
    return hx_redirect(request, url + (f"?{query_string({'list': back})}" if back else ""))


@require_POST
@capability_required("tickets.edit")
def reply_preview(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The composer's Markdown as the customer will read it: rendered and sanitised by core.markdown."""
    _ticket_or_404(ticket_id)
    form = PreviewForm(request.POST)
    body = form.cleaned_data["body"] if form.is_valid() else ""
    context = {"preview_html": markdown_to_html(body), "too_long": not form.is_valid()}
    return render_partial(request, DETAIL_TEMPLATE, "composer-preview", context)


def _replied(request: HttpRequest, ticket: Ticket, kind: str) -> HttpResponse:
    noun = "Note added" if kind == "note" else "Reply sent"
    messages.success(request, f"{noun} on #{ticket.pk}.")
    if not request.htmx:
        return redirect("tickets:ticket_detail", ticket_id=ticket.pk)
    fresh = _ticket_or_404(ticket.pk)
    composer_context = {
        "ticket": fresh,
        "reply_form": _reply_form(fresh, kind=kind, list_params=request.POST.get("list", "")),
        "reply_route": selectors.reply_route(fresh),
        **_capabilities(request.user),
    }
    composer = render_to_string(f"{DETAIL_TEMPLATE}#ticket-composer", composer_context, request=request)
    header = render_to_string(
        f"{DETAIL_TEMPLATE}#ticket-header", _header_context(request, fresh, oob=True), request=request
    )
    thread_context = {"ticket": fresh, "thread": selectors.ticket_thread(ticket=fresh), "oob": True}
    thread = render_to_string(f"{DETAIL_TEMPLATE}#ticket-thread", thread_context, request=request)
    # The new composer carries the status hint; the SLA card shows the clocks the reply stopped or restarted.
    return HttpResponse(composer + header + thread + _side_oob(request, fresh, status_hint=False))


@require_GET
@capability_required("tickets.view")
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """Always a download (never shown inline, never sniffed): an uploaded .html or .svg cannot run in our origin."""
    try:
        attachment = selectors.attachment_get(attachment_id=attachment_id)
        handle = attachment.file.open("rb")
    except (Attachment.DoesNotExist, FileNotFoundError):
        raise Http404("No such attachment.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
