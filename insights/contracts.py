"""What insights' metrics take and return: filters, and frozen figures that carry the previous period's value.

Pages, exports, reports and other apps read these (through insights.facade), never the rollup tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta


@dataclass(frozen=True)
class MetricFilters:
    """A period (`start` … `end`, both included) and the dimensions to keep. Empty means any.

    Tickets honour every dimension; leads and quotes only `agent_id` (their owner); AI usage none of them.
    """

    start: date
    end: date
    team_id: int | None = None
    channel: str = ""
    category_id: int | None = None
    tier: str = ""
    agent_id: int | None = None
    priority: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> MetricFilters:
        """The period of the same length just before this one, same dimensions."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))


@dataclass(frozen=True)
class Figure:
    """One number in this period and in the previous one (None: nothing to measure, e.g. a rate without cases)."""

    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (0.25: +25%); None when either is unknown or zero."""
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / self.previous


@dataclass(frozen=True)
class Breakdown:
    """One line of a table by a dimension: its key (a team id, a channel, a priority…) and figures."""

    key: str | int
    figures: dict[str, Figure]


@dataclass(frozen=True)
class SlaMetrics:
    tracked: Figure  # tickets created in the period that an SLA policy covers
    breached: Figure
    adherence: Figure  # 1 − breached / tracked
    first_response_p50: Figure  # minutes (calendar time)
    first_response_p90: Figure
    resolution_p50: Figure
    resolution_p90: Figure
    by_team: tuple[Breakdown, ...] = ()
    by_priority: tuple[Breakdown, ...] = ()


@dataclass(frozen=True)
class CsatMetrics:
    answers: Figure
    average: Figure  # 1–5
    satisfied: Figure  # share rating 4 or 5
    distribution: dict[int, int] = field(default_factory=dict)  # rating -> answers, this period


@dataclass(frozen=True)
class TicketVolumeMetrics:
    created: Figure
    solved: Figure
    backlog: Figure  # unsolved at the end of the period (tickets created by then, not solved by then)
    by_channel: tuple[Breakdown, ...] = ()
    by_team: tuple[Breakdown, ...] = ()
    by_category: tuple[Breakdown, ...] = ()


@dataclass(frozen=True)
class AgentMetrics:
    agents: tuple[Breakdown, ...]  # key: the agent's user id (0: unassigned); solved, first_response_p50, csat…


@dataclass(frozen=True)
class LeadVelocityMetrics:
    created: Figure
    won: Figure
    lost: Figure
    win_rate: Figure
    cycle_days_p50: Figure
    open_at_end: Figure
    won_value: dict[str, Figure] = field(default_factory=dict)  # currency -> value won (major units)
    velocity_per_day: dict[str, Figure] = field(default_factory=dict)  # currency -> open × win rate × value / cycle
    by_owner: tuple[Breakdown, ...] = ()


@dataclass(frozen=True)
class QuoteCycleMetrics:
    created: Figure
    sent: Figure
    accepted: Figure
    declined: Figure
    expired: Figure
    win_rate: Figure  # accepted / (accepted + declined + expired)
    cycle_days_p50: Figure  # created → answer, answered quotes
    cycle_days_p90: Figure
    by_owner: tuple[Breakdown, ...] = ()


@dataclass(frozen=True)
class AIUsageMetrics:
    runs: Figure
    cost_usd: Figure
    failed: Figure
    acceptance: Figure  # accepted as is / feedback given
    used: Figure  # (accepted + edited) / feedback given
    edit_distance: Figure  # mean, of the edited outputs that measured it
    by_feature: tuple[Breakdown, ...] = ()
    by_provider: tuple[Breakdown, ...] = ()


# --- dashboards ---------------------------------------------------------------------------------------------------

WIDGET_KINDS = ("number", "trend", "bar", "table", "funnel")


@dataclass(frozen=True)
class Series:
    """One line of a trend chart or one set of bars: a label and a value per x-axis label (None: no data)."""

    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class WidgetData:
    """What one dashboard widget shows for one set of filters, ready for a page, an export or an email report.

    `kind` says which fields carry it: number → `figure`; trend, bar and funnel → `labels` × `series`; table →
    `columns` × `rows`. `table()` flattens any kind to the columns and rows an export writes. `unit` is how values
    read: count, pct (a share 0–1), minutes, days, rating, usd, or a currency code. `better` is the direction that is
    good news ("up", "down" or ""). `drill` is the list behind the figure with the same filters ("" when there is
    none); `links` the list behind each bar or table line, by its label."""

    key: str
    title: str
    kind: str
    unit: str = "count"
    better: str = "up"
    figure: Figure | None = None
    labels: tuple[str, ...] = ()
    series: tuple[Series, ...] = ()
    columns: tuple[str, ...] = ()
    column_units: tuple[str, ...] = ()  # each table column's unit ("" for text)
    rows: tuple[tuple, ...] = ()
    drill: str = ""
    links: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def table(self) -> tuple[tuple[str, ...], list[tuple]]:
        if self.kind == "number":
            figure = self.figure or Figure(None, None)
            return ("Metric", "This period", "Previous period", "Change"), [
                (self.title, figure.value, figure.previous, figure.change)
            ]
        if self.kind == "table":
            return self.columns, list(self.rows)
        heading = "Day" if self.kind == "trend" else "Item"
        columns = (heading, *(series.label for series in self.series))
        return columns, [
            (label, *(series.values[index] for series in self.series)) for index, label in enumerate(self.labels)
        ]
