"""Dashboards as pages see them: a layout (preset or custom) of catalog widgets, each with its size and filters of
its own, and the computation of every widget's data for a period.

Presets are code, one per role's work (support lead, sales lead, owner), so every workspace has them from day one
and an improved preset reaches everyone; a person copies one to make it their own (services.dashboard_create).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from . import catalog
from .contracts import MetricFilters, WidgetData
from .models import Dashboard, DashboardWidget

SMALL, MEDIUM, LARGE = DashboardWidget.Size.SMALL, DashboardWidget.Size.MEDIUM, DashboardWidget.Size.LARGE
# Per-widget filters: the page's dimensions plus a period of its own. Values as a query string carries them.
WIDGET_FILTERS = ("period", "team", "channel", "category", "tier", "agent", "priority")
PERIODS = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "365d": "Last 12 months",
    "month": "This month",
    "last_month": "Last month",
    "quarter": "This quarter",
    "custom": "Custom dates",
}
DEFAULT_PERIOD = "30d"


@dataclass(frozen=True)
class Slot:
    """One widget of a layout. `widget_id` is set for a custom dashboard's widgets (what edits address)."""

    key: str
    size: str = SMALL
    title: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    widget_id: int | None = None

    @property
    def entry(self) -> catalog.Entry:
        return catalog.CATALOG[self.key]


@dataclass(frozen=True)
class Layout:
    slug: str  # a preset's name, or a custom dashboard's id
    name: str
    slots: tuple[Slot, ...]
    dashboard: Dashboard | None = None  # None: a preset

    @property
    def is_preset(self) -> bool:
        return self.dashboard is None


def _slots(*items: str | tuple[str, str]) -> tuple[Slot, ...]:
    return tuple(Slot(item) if isinstance(item, str) else Slot(item[0], item[1]) for item in items)


PRESETS: dict[str, Layout] = {
    "support": Layout(
        "support",
        "Support lead",
        _slots(
            "tickets_created",
            "tickets_solved",
            "ticket_backlog",
            "sla_adherence",
            ("tickets_trend", LARGE),
            "first_response_time",
            "resolution_time",
            "csat_average",
            "ai_acceptance",
            ("tickets_by_channel", MEDIUM),
            ("tickets_by_category", MEDIUM),
            ("sla_breaches", MEDIUM),
            ("csat_distribution", MEDIUM),
            ("agent_performance", LARGE),
        ),
    ),
    "sales": Layout(
        "sales",
        "Sales lead",
        _slots(
            "leads_created",
            "leads_won",
            "lead_win_rate",
            "open_leads",
            ("sales_funnel", MEDIUM),
            ("leads_trend", MEDIUM),
            "quotes_sent",
            "quote_win_rate",
            "quote_cycle",
            "lead_cycle",
            ("quote_outcomes", MEDIUM),
            ("won_value", MEDIUM),
            ("leads_by_owner", MEDIUM),
            ("quotes_by_owner", MEDIUM),
        ),
    ),
    "owner": Layout(
        "owner",
        "Owner",
        _slots(
            "tickets_created",
            "sla_adherence",
            "csat_average",
            "ticket_backlog",
            "leads_won",
            "lead_win_rate",
            "quote_win_rate",
            "ai_cost",
            ("tickets_trend", MEDIUM),
            ("sales_funnel", MEDIUM),
            ("ai_by_feature", LARGE),
        ),
    ),
}
ROLE_PRESETS = {"owner": "owner", "admin": "support", "agent": "support", "sales": "sales"}


def preset_for(role: str) -> str:
    return ROLE_PRESETS.get(role, "support")


def layout_of(dashboard: Dashboard) -> Layout:
    slots = tuple(
        Slot(widget.key, widget.size, widget.title, dict(widget.filters or {}), widget.pk)
        for widget in dashboard.widgets.all()
        if widget.key in catalog.CATALOG  # an entry retired from the catalog leaves its widget out
    )
    return Layout(str(dashboard.pk), dashboard.name, slots, dashboard)


# --- periods and filters ------------------------------------------------------------------------------------------


def period_dates(period: str, *, today: date | None = None, start: date | None = None, end: date | None = None):
    """(start, end) of a named period ending today (both included); "custom" uses `start` and `end`."""
    today = today or timezone.localdate()
    if period == "custom" and start and end:
        return start, end
    if period.endswith("d") and period[:-1].isdigit():
        return today - timedelta(days=int(period[:-1]) - 1), today
    if period == "month":
        return today.replace(day=1), today
    if period == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    return period_dates(DEFAULT_PERIOD, today=today)


def slot_filters(page: MetricFilters, slot: Slot, *, today: date | None = None) -> MetricFilters:
    """The page's filters narrowed by the widget's own (a widget value wins over the page's; empty inherits)."""
    own = slot.filters
    changes: dict[str, Any] = {}
    if own.get("period"):
        changes["start"], changes["end"] = period_dates(own["period"], today=today)
    for name, field_name in (("team", "team_id"), ("category", "category_id"), ("agent", "agent_id")):
        value = str(own.get(name, ""))
        if value == "none":
            changes[field_name] = 0
        elif value.isdigit():
            changes[field_name] = int(value)
    for name in ("channel", "tier", "priority"):
        if own.get(name):
            changes[name] = own[name]
    return replace(page, **changes)


# --- data -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """A slot with its data, as a page, an export or a report shows it."""

    index: int
    slot: Slot
    filters: MetricFilters
    data: WidgetData

    @property
    def title(self) -> str:
        return self.slot.title or self.data.title


def panel_build(layout: Layout, index: int, page: MetricFilters, *, contexts: dict | None = None) -> Panel:
    slot = layout.slots[index]
    filters = slot_filters(page, slot)
    return Panel(index, slot, filters, catalog.widget_data(slot.key, filters, contexts=contexts))


def dashboard_panels(layout: Layout, page: MetricFilters) -> list[Panel]:
    """Every widget's data; widgets reading the same metric with the same filters share one computation."""
    contexts: dict = {}
    return [panel_build(layout, index, page, contexts=contexts) for index in range(len(layout.slots))]
