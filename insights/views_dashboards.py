"""Dashboard pages: a preset or custom dashboard with its filter bar, one widget's HTMX refresh and export, and the
builder (custom dashboards and their widgets, in modals)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.forms import add_service_errors
from core.htmx import hx_redirect, render_modal, render_partial, wants_fragment
from core.realtime import topics_query

from . import exports, live, selectors, services
from .dashboards import PRESETS, Layout, dashboard_panels, panel_build, preset_for
from .forms import DashboardFilterForm, DashboardForm, WidgetForm, filters_described
from .models import Dashboard, DashboardWidget

TEMPLATE = "insights/dashboard.html"
DASHBOARD_FORM = "insights/dashboard_form.html"
WIDGET_FORM = "insights/widget_form.html"


def _layout(request: HttpRequest, slug: str) -> Layout:
    try:
        return selectors.dashboard_layout(user=request.user, slug=slug)
    except Dashboard.DoesNotExist:
        raise Http404("No such dashboard, or it is not shared with you.") from None


@require_GET
@capability_required("insights.view")
def insights_home(request: HttpRequest) -> HttpResponse:
    """Insights open on the dashboard of the person's work: support lead, sales lead or owner."""
    return redirect("insights:dashboard", preset_for(request.user.role))


@require_GET
@capability_required("insights.view")
def dashboard(request: HttpRequest, dashboard_slug: str) -> HttpResponse:
    layout = _layout(request, dashboard_slug)
    form = DashboardFilterForm(request.GET)
    filters = form.metric_filters()
    context = {
        "layout": layout,
        "form": form,
        "filters": filters,
        "query": urlencode(form.params()),
        "panels": dashboard_panels(layout, filters),
        "described": {index: filters_described(form, slot.filters) for index, slot in enumerate(layout.slots)},
        "presets": PRESETS.values(),
        "customs": selectors.dashboards_visible(user=request.user),
        "can_edit": selectors.can_edit(user=request.user, layout=layout),
        "live_topics": topics_query(live.DASHBOARD_TOPIC, user_id=request.user.pk),
    }
    if wants_fragment(request, "dashboard-grid"):
        return render_partial(request, TEMPLATE, "dashboard-grid", context)
    return render(request, TEMPLATE, context)


@require_GET
@capability_required("insights.view")
def widget(request: HttpRequest, dashboard_slug: str, index: int) -> HttpResponse:
    """One widget, recomputed (its refresh button, a live update, or a new period of its own)."""
    layout = _layout(request, dashboard_slug)
    if index >= len(layout.slots):
        raise Http404("No such widget.")
    form = DashboardFilterForm(request.GET)
    context = {
        "layout": layout,
        "panel": panel_build(layout, index, form.metric_filters()),
        "described": {index: filters_described(form, layout.slots[index].filters)},
        "query": urlencode(form.params()),
        "can_edit": selectors.can_edit(user=request.user, layout=layout),
    }
    return render_partial(request, TEMPLATE, "widget", context)


@require_GET
@capability_required("insights.view")
def widget_export(request: HttpRequest, dashboard_slug: str, index: int) -> HttpResponse:
    layout = _layout(request, dashboard_slug)
    if index >= len(layout.slots):
        raise Http404("No such widget.")
    kind = request.GET.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        return HttpResponse("Choose format=csv or format=xlsx.", status=400, content_type="text/plain")
    panel = panel_build(layout, index, DashboardFilterForm(request.GET).metric_filters())
    if kind == "xlsx":
        response = HttpResponse(exports.widget_xlsx(panel, description=layout.name), content_type=exports.XLSX_TYPE)
    else:
        response = StreamingHttpResponse(exports.widget_csv(panel), content_type=exports.CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(panel, kind)}"'
    return response


# --- the builder ----------------------------------------------------------------------------------------------------


def _editable(request: HttpRequest, dashboard_id: int) -> Dashboard:
    return get_object_or_404(selectors.dashboards_editable(user=request.user), pk=dashboard_id)


def _may_share(user) -> bool:
    return user_can(user, "insights.manage")


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def dashboard_create(request: HttpRequest) -> HttpResponse:
    """A new custom dashboard, empty or as a copy of the one the person was looking at (`?copy=<slug>`)."""
    source = request.POST.get("copy") or request.GET.get("copy", "")
    copy_of = _layout(request, source) if source else None
    initial = {"name": f"{copy_of.name} (my copy)" if copy_of else ""}
    form = DashboardForm(request.POST or None, initial=initial, can_share=_may_share(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            created = services.dashboard_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                shared=bool(form.cleaned_data.get("shared")),
                copy_of=copy_of,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Made the dashboard “{created.name}”.")
            return hx_redirect(request, reverse("insights:dashboard", args=[created.pk]))
    return render_modal(request, DASHBOARD_FORM, {"form": form, "copy": source, "copy_of": copy_of})


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def dashboard_update(request: HttpRequest, dashboard_id: int) -> HttpResponse:
    board = _editable(request, dashboard_id)
    form = DashboardForm(request.POST or None, instance=board, can_share=_may_share(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.dashboard_update(
                dashboard=board,
                name=form.cleaned_data["name"],
                shared=form.cleaned_data.get("shared", board.shared),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved the dashboard.")
            return hx_redirect(request, reverse("insights:dashboard", args=[board.pk]))
    return render_modal(request, DASHBOARD_FORM, {"form": form, "dashboard": board})


@require_POST
@capability_required("insights.view")
def dashboard_delete(request: HttpRequest, dashboard_id: int) -> HttpResponse:
    board = _editable(request, dashboard_id)
    services.dashboard_delete(dashboard=board)
    messages.success(request, f"Deleted the dashboard “{board.name}”.")
    return hx_redirect(request, reverse("insights:home"))


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def widget_create(request: HttpRequest, dashboard_id: int) -> HttpResponse:
    board = _editable(request, dashboard_id)
    form = WidgetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.widget_add(dashboard=board, **form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Added the widget.")
            return hx_redirect(request, reverse("insights:dashboard", args=[board.pk]))
    return render_modal(request, WIDGET_FORM, {"form": form, "dashboard": board})


def _widget(request: HttpRequest, widget_id: int) -> DashboardWidget:
    editable = selectors.dashboards_editable(user=request.user)
    return get_object_or_404(
        DashboardWidget.objects.select_related("dashboard").filter(dashboard__in=editable), pk=widget_id
    )


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def widget_update(request: HttpRequest, widget_id: int) -> HttpResponse:
    item = _widget(request, widget_id)
    form = WidgetForm(request.POST) if request.method == "POST" else WidgetForm.for_widget(item)
    if request.method == "POST" and form.is_valid():
        try:
            services.widget_update(widget=item, **form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved the widget.")
            return hx_redirect(request, reverse("insights:dashboard", args=[item.dashboard_id]))
    return render_modal(request, WIDGET_FORM, {"form": form, "dashboard": item.dashboard, "widget": item})


@require_POST
@capability_required("insights.view")
def widget_delete(request: HttpRequest, widget_id: int) -> HttpResponse:
    item = _widget(request, widget_id)
    services.widget_delete(widget=item)
    messages.success(request, "Removed the widget.")
    return hx_redirect(request, reverse("insights:dashboard", args=[item.dashboard_id]))


@require_POST
@capability_required("insights.view")
def widget_move(request: HttpRequest, widget_id: int, offset: int) -> HttpResponse:
    """One place earlier or later (the URL says which)."""
    item = _widget(request, widget_id)
    services.widget_move(widget=item, offset=offset)
    return hx_redirect(request, reverse("insights:dashboard", args=[item.dashboard_id]))
