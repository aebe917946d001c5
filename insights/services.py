"""Insights' writes: rollup upkeep for an event and the repair of recent days (the logic is in insights.rollups);
custom dashboards and their widgets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from . import catalog, rollups
from .dashboards import PERIODS, WIDGET_FILTERS, Layout
from .models import Dashboard, DashboardWidget
from .rollups import RepairReport

REPAIR_DAYS = 2  # the nightly window: today and yesterday, where late events and bulk writes land


def rollups_refresh(*, kind: str, ids: Iterable[int]) -> int:
    return rollups.rollups_refresh(kind=kind, ids=ids)


def rollups_repair_recent(*, days: int = REPAIR_DAYS) -> RepairReport:
    """Recomputes the last `days` days (today included); `days=0` rebuilds everything."""
    if days <= 0:
        return rollups.rollups_repair(since=None)
    return rollups.rollups_repair(since=timezone.localdate() - timedelta(days=days - 1))


# --- dashboards -----------------------------------------------------------------------------------------------------

MAX_WIDGETS = 24


def _widget_clean(*, key: str, title: str, size: str, filters: dict) -> dict:
    if key not in catalog.CATALOG:
        raise ValidationError({"key": "Choose a widget from the catalog."})
    if size not in DashboardWidget.Size.values:
        raise ValidationError({"size": "Choose small, medium or large."})
    unknown = sorted(set(filters) - set(WIDGET_FILTERS))
    if unknown:
        raise ValidationError({"key": f"Unknown widget filters: {', '.join(unknown)}."})
    if filters.get("period", "") not in (*PERIODS, "") or filters.get("period") == "custom":
        raise ValidationError({"period": "Choose one of the listed periods."})
    return {"key": key, "title": title.strip()[:120], "size": size, "filters": {k: str(v) for k, v in filters.items()}}


@transaction.atomic
def dashboard_create(*, owner, name: str, shared: bool = False, copy_of: Layout | None = None) -> Dashboard:
    """A custom dashboard, empty or with a copy of a layout's widgets (a preset or another dashboard)."""
    name = " ".join(name.split())[:120]
    if not name:
        raise ValidationError({"name": "Give the dashboard a name."})
    dashboard = Dashboard.objects.create(name=name, owner=owner, shared=shared)
    if copy_of is not None:
        DashboardWidget.objects.bulk_create(
            DashboardWidget(
                dashboard=dashboard,
                position=position,
                key=slot.key,
                size=slot.size,
                title=slot.title,
                filters=dict(slot.filters),
            )
            for position, slot in enumerate(copy_of.slots)
        )
    return dashboard


def dashboard_update(*, dashboard: Dashboard, name: str, shared: bool) -> Dashboard:
    name = " ".join(name.split())[:120]
    if not name:
        raise ValidationError({"name": "Give the dashboard a name."})
    dashboard.name, dashboard.shared = name, shared
    dashboard.save(update_fields=["name", "shared", "updated"])
    return dashboard


def dashboard_delete(*, dashboard: Dashboard) -> None:
    dashboard.delete()


@transaction.atomic
def widget_add(
    *, dashboard: Dashboard, key: str, title: str = "", size: str = "small", filters=None
) -> DashboardWidget:
    Dashboard.objects.select_for_update().filter(pk=dashboard.pk).first()  # positions stay unique under two adds
    count = dashboard.widgets.count()
    if count >= MAX_WIDGETS:
        raise ValidationError({"key": f"A dashboard holds at most {MAX_WIDGETS} widgets; make another one."})
    fields = _widget_clean(key=key, title=title, size=size, filters=filters or {})
    position = (dashboard.widgets.aggregate(last=Max("position"))["last"] or 0) + 1 if count else 0
    widget = DashboardWidget.objects.create(dashboard=dashboard, position=position, **fields)
    Dashboard.objects.filter(pk=dashboard.pk).update(updated=timezone.now())
    return widget


def widget_update(*, widget: DashboardWidget, key: str, title: str, size: str, filters: dict) -> DashboardWidget:
    for name, value in _widget_clean(key=key, title=title, size=size, filters=filters).items():
        setattr(widget, name, value)
    widget.save(update_fields=["key", "title", "size", "filters"])
    return widget


def widget_delete(*, widget: DashboardWidget) -> None:
    widget.delete()


@transaction.atomic
def widget_move(*, widget: DashboardWidget, offset: int) -> None:
    """Moves a widget `offset` places earlier (negative) or later, swapping with the widgets it passes."""
    order = list(widget.dashboard.widgets.select_for_update().order_by("position", "id"))
    index = next(i for i, item in enumerate(order) if item.pk == widget.pk)
    target = max(0, min(len(order) - 1, index + offset))
    order.insert(target, order.pop(index))
    for position, item in enumerate(order):
        item.position = position
    DashboardWidget.objects.bulk_update(order, ["position"])
