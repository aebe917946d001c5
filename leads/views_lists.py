"""The lead list with its views: built-in ones (My open leads, Closing this month…) and saved ones, personal or
shared, with their counts in a rail; saving the current filters as a view, renaming, sharing and deleting it.

Fragments follow the ticket list (helpdesk/views/tickets.py): filters swap #lead-table, a view's link swaps
#lead-main (its filters too), and the rail follows out of band so its active view and counts stay current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.day_ranges import day_range_chips, day_range_inputs
from core.forms import add_service_errors
from core.htmx import hx_redirect, render_modal, wants_fragment
from core.saved_views import SavedViewForm, matching_view, query_string

from . import selectors, services
from .forms import DAY_RANGES, LeadFilterForm, ListQuery, list_query
from .models import LeadSavedView, LeadSource, StageKind
from .periods import CLOSE_PERIODS, PERIODS

LIST_TEMPLATE = "leads/lead_list.html"
VIEW_FORM_TEMPLATE = "leads/lead_view_form.html"
VIEW_DELETE_TEMPLATE = "leads/lead_view_confirm_delete.html"
PAGE_SIZE = 50
SORTABLE = ("updated", "created", "value", "expected_close")
STALLED_DAYS = "14"

# The rail's built-in views: key, name, icon, the list parameters they stand for.
OPEN = {"status": StageKind.OPEN.value}
BUILTIN_VIEWS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("my-open", "My open leads", "person-check", {**OPEN, "owner": "me"}),
    ("closing", "Closing this month", "calendar-event", {**OPEN, "close": "this_month", "sort": "expected_close"}),
    (
        "stalled",
        f"Stalled {STALLED_DAYS}+ days",
        "hourglass-split",
        {**OPEN, "stalled": STALLED_DAYS, "sort": "updated"},
    ),
    (
        "won-quarter",
        "Won this quarter",
        "trophy",
        {"status": StageKind.WON.value, "won": "this_quarter", "sort": "-value"},
    ),
    ("open", "All open", "funnel", OPEN),
    ("all", "All leads", "collection", {}),
)


@dataclass(frozen=True)
class RailView:
    key: str
    name: str
    icon: str
    query: str
    count: int
    active: bool
    saved: LeadSavedView | None = None
    editable: bool = False


def _may_share(user) -> bool:
    """Sales people share views with the team; readers keep theirs to themselves."""
    return user_can(user, "leads.edit")


def _may_change(user, view: LeadSavedView) -> bool:
    return view.owner_id == user.pk or (view.shared and user_can(user, "leads.manage"))


def _rail(user, current: dict[str, str]) -> list[RailView]:
    """Built-in and saved views with their counts (one query for all counts) and the one the list shows now."""
    saved = selectors.lead_view_list(user=user)
    entries = [(key, name, icon, params, None) for key, name, icon, params in BUILTIN_VIEWS]
    entries += [(f"view-{view.pk}", view.name, "bookmark", view.filters or {}, view) for view in saved]
    queries = [list_query(params, user=user) for *_, params, _ in entries]
    counts = selectors.lead_counts([query.filters for query in queries])
    active = matching_view(((entry[0], query.params) for entry, query in zip(entries, queries, strict=True)), current)
    return [
        RailView(
            key=key,
            name=name,
            icon=icon,
            query=query_string(query.params),
            count=count,
            active=key == active,
            saved=view,
            editable=view is not None and _may_change(user, view),
        )
        for (key, name, icon, _, view), query, count in zip(entries, queries, counts, strict=True)
    ]


def _sort_links(sort: str) -> dict[str, dict[str, Any]]:
    """For each sortable column: the sort its header sets (a second click reverses it) and whether it is active.
    Dates of change and values start with the newest / largest; the close date with the nearest."""
    links = {}
    for field in SORTABLE:
        active = sort.lstrip("-") == field
        descending = active and sort.startswith("-")
        first_click = field if field == "expected_close" else f"-{field}"
        param = (field if descending else f"-{field}") if active else first_click
        links[field] = {"param": param, "active": active, "desc": descending}
    return links


def _context(request: HttpRequest, form: LeadFilterForm, query: ListQuery) -> dict[str, Any]:
    page = selectors.lead_list(filters=query.filters, sort=query.sort, cursor=query.cursor, page_size=PAGE_SIZE)
    field, descending = selectors.parse_sort(query.sort)
    sort = f"-{field}" if descending else field
    return {
        "page": page,
        "form": form,
        "params": query.params,
        "sort": sort,
        "sort_links": _sort_links(sort),
        "filters": query.filters,
        "rail": _rail(request.user, query.params),
        "can_edit": user_can(request.user, "leads.edit"),
        "source_choices": LeadSource.choices,
        "status_choices": StageKind.choices,
        "close_periods": CLOSE_PERIODS.items(),
        "won_periods": PERIODS.items(),
        "day_ranges": day_range_inputs(query.params, DAY_RANGES),
        "day_chips": day_range_chips(query.params, DAY_RANGES),
    }


@require_GET
@capability_required("leads.view")
def lead_list(request: HttpRequest) -> HttpResponse:
    form = LeadFilterForm(request.GET)
    query = form.query(user=request.user)
    context = _context(request, form, query)
    if wants_fragment(request, "lead-table"):
        html = render_to_string(f"{LIST_TEMPLATE}#lead-table", context, request=request)
        rail = render_to_string(f"{LIST_TEMPLATE}#lead-rail", context | {"oob": True}, request=request)
        return HttpResponse(html + rail)
    context["owners"] = selectors.owner_choices()
    context["stages"] = selectors.stage_list()
    if wants_fragment(request, "lead-main"):
        html = render_to_string(f"{LIST_TEMPLATE}#lead-main", context, request=request)
        rail = render_to_string(f"{LIST_TEMPLATE}#lead-rail", context | {"oob": True}, request=request)
        return HttpResponse(html + rail)
    return render(request, LIST_TEMPLATE, context)


# --- Saved views --------------------------------------------------------------------------------


def _view_or_404(request: HttpRequest, view_id: int) -> LeadSavedView:
    """A view the person sees; someone else's personal view does not even show that it exists."""
    try:
        return selectors.lead_view_get(view_id=view_id, user=request.user)
    except LeadSavedView.DoesNotExist:
        raise Http404("No such view.") from None


def _list_url(params: dict[str, str]) -> str:
    query = query_string(params)
    return reverse("leads:lead_list") + (f"?{query}" if query else "")


@require_http_methods(["GET", "POST"])
@capability_required("leads.view")
def lead_view_create(request: HttpRequest) -> HttpResponse:
    """The "Save view" button sends the list's filter form: what the list shows now."""
    can_share = _may_share(request.user)
    initial = {"filters": query_string(list_query(request.GET, user=request.user).params)}
    form = SavedViewForm(request.POST if request.method == "POST" else None, initial=initial, can_share=can_share)
    if request.method == "POST" and form.is_valid():
        # Only valid list parameters are stored, normalised the way the list reads them.
        params = list_query(form.filter_params(), user=request.user).params
        try:
            view = services.lead_view_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                filters=params,
                shared=form.cleaned_data.get("shared"),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return hx_redirect(request, _list_url(params))
    return render_modal(request, VIEW_FORM_TEMPLATE, {"form": form})


@require_http_methods(["GET", "POST"])
@capability_required("leads.view")
def lead_view_update(request: HttpRequest, lead_view_id: int) -> HttpResponse:
    """Rename a view, share it or take it back (its filters stay: save the list again for new ones)."""
    view = _view_or_404(request, lead_view_id)
    if not _may_change(request.user, view):
        raise PermissionDenied("Only its owner or a sales manager may change a shared view.")
    can_share = _may_share(request.user)
    initial = {"name": view.name, "shared": view.shared, "filters": query_string(view.filters)}
    form = SavedViewForm(request.POST if request.method == "POST" else None, initial=initial, can_share=can_share)
    if request.method == "POST" and form.is_valid():
        shared = form.cleaned_data.get("shared") if can_share else None
        try:
            services.lead_view_update(view=view, actor=request.user, name=form.cleaned_data["name"], shared=shared)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return hx_redirect(request, _list_url(view.filters))
    return render_modal(request, VIEW_FORM_TEMPLATE, {"form": form, "view": view})


@require_http_methods(["GET", "POST"])
@capability_required("leads.view")
def lead_view_delete(request: HttpRequest, lead_view_id: int) -> HttpResponse:
    view = _view_or_404(request, lead_view_id)
    if not _may_change(request.user, view):
        raise PermissionDenied("Only its owner or a sales manager may delete a shared view.")
    if request.method == "POST":
        services.lead_view_delete(view=view, actor=request.user)
        messages.success(request, f"Deleted the view “{view.name}”.")
        return hx_redirect(request, reverse("leads:lead_list"))
    return render_modal(request, VIEW_DELETE_TEMPLATE, {"view": view})
