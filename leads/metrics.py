"""Pipeline metrics for a period: lead velocity, conversion per stage, time in stage, win rate by source and owner.
Every figure is aggregated in SQL: a constant number of queries whatever the number of leads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from .models import Lead, LeadStageChange, Pipeline, Stage, StageKind

PERIODS = {30: "Last 30 days", 90: "Last 90 days", 180: "Last 6 months", 365: "Last 12 months"}
DEFAULT_PERIOD = 90


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # the figure (a share 0–1, or days)
    text: str  # the figure as people read it, also the chart's text alternative
    percent: float  # bar length against the longest bar, 0–100


@dataclass
class PipelineMetrics:
    days: int
    since: datetime
    open_leads: int = 0
    won: int = 0
    lost: int = 0
    win_rate: float | None = None
    average_won_value: float | None = None
    average_cycle_days: float | None = None
    velocity: float | None = None  # value per day the pipeline is expected to turn into wins
    conversion: list[Bar] = field(default_factory=list)
    time_in_stage: list[Bar] = field(default_factory=list)
    by_source: list[Bar] = field(default_factory=list)
    by_owner: list[Bar] = field(default_factory=list)


def _bars(items: list[tuple[str, float, str]]) -> list[Bar]:
    top = max((value for _, value, _ in items), default=0) or 1
    return [Bar(label, value, text, round(100 * value / top, 1)) for label, value, text in items]


def _rate_bars(rows: list[dict], label) -> list[Bar]:
    items = []
    for row in sorted(rows, key=lambda r: (-(r["won"] / r["total"]), str(label(r)))):
        rate = row["won"] / row["total"]
        items.append((str(label(row)), rate, f"{rate:.0%} ({row['won']} of {row['total']})"))
    return _bars(items)


def _headline(metrics: PipelineMetrics, leads, since: datetime) -> None:
    won_q = Q(stage__kind=StageKind.WON, won_at__gte=since)
    figures = leads.aggregate(
        open=Count("id", filter=Q(stage__kind=StageKind.OPEN)),
        won=Count("id", filter=won_q),
        lost=Count("id", filter=Q(stage__kind=StageKind.LOST, lost_at__gte=since)),
        value=Avg("value", filter=won_q),
        cycle=Avg(F("won_at") - F("created"), filter=won_q),
    )
    metrics.open_leads, metrics.won, metrics.lost = figures["open"], figures["won"], figures["lost"]
    if metrics.won + metrics.lost:
        metrics.win_rate = metrics.won / (metrics.won + metrics.lost)
    if figures["value"] is not None:
        metrics.average_won_value = float(figures["value"])
    if figures["cycle"] is not None:
        metrics.average_cycle_days = max(figures["cycle"].total_seconds() / 86400, 1 / 24)
    if metrics.win_rate is not None and metrics.average_won_value is not None and metrics.average_cycle_days:
        metrics.velocity = (
            metrics.open_leads * metrics.win_rate * metrics.average_won_value / metrics.average_cycle_days
        )


def _conversion(stages: list[Stage], pipeline: Pipeline, since: datetime) -> list[Bar]:
    """Of the leads that entered each open stage in the period, the share that moved on (a later stage, or won)."""
    changes = LeadStageChange.objects.filter(to_stage__pipeline=pipeline, at__gte=since)
    entered = dict(changes.values_list("to_stage").annotate(n=Count("lead", distinct=True)).order_by())
    forward = Q(to_stage__order__gt=F("from_stage__order"), to_stage__kind=StageKind.OPEN)
    moved = dict(
        LeadStageChange.objects.filter(from_stage__pipeline=pipeline, from_stage__kind=StageKind.OPEN, at__gte=since)
        .filter(forward | Q(to_stage__kind=StageKind.WON))
        .values_list("from_stage")
        .annotate(n=Count("lead", distinct=True))
        .order_by()
    )  # fmt: skip
    items = []
    for stage in stages:
        if stage.kind != StageKind.OPEN or not entered.get(stage.pk):
            continue
        share = min(1.0, moved.get(stage.pk, 0) / entered[stage.pk])
        items.append((stage.name, share, f"{share:.0%} moved on ({moved.get(stage.pk, 0)} of {entered[stage.pk]})"))
    return _bars(items)


TIME_IN_STAGE_SQL = """
SELECT to_stage_id, AVG(EXTRACT(EPOCH FROM (left_at - at))) / 86400 FROM (
    SELECT c.to_stage_id, s.kind, c.at, LEAD(c.at) OVER (PARTITION BY c.lead_id ORDER BY c.at, c.id) AS left_at
    FROM {changes} c JOIN {stages} s ON s.id = c.to_stage_id
    WHERE s.pipeline_id = %s AND c.lead_id IN (SELECT lead_id FROM {changes} WHERE at >= %s)
) stays WHERE kind = 'open' AND left_at IS NOT NULL AND at >= %s GROUP BY to_stage_id
"""


def _time_in_stage(stages: list[Stage], pipeline: Pipeline, since: datetime) -> list[Bar]:
    """Average days a lead stayed in each open stage, over the stays that began in the period and have ended."""
    sql = TIME_IN_STAGE_SQL.format(
        changes=connection.ops.quote_name(LeadStageChange._meta.db_table),
        stages=connection.ops.quote_name(Stage._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pipeline.pk, since, since])
        days = {stage_id: float(value) for stage_id, value in cursor.fetchall()}
    return _bars([(s.name, days[s.pk], f"{days[s.pk]:.1f} days") for s in stages if s.pk in days])


def pipeline_metrics(*, pipeline: Pipeline, days: int = DEFAULT_PERIOD, now: datetime | None = None) -> PipelineMetrics:
    since = (now or timezone.now()) - timedelta(days=days)
    metrics = PipelineMetrics(days=days, since=since)
    stages = list(pipeline.stages.order_by("order", "id"))
    leads = Lead.objects.filter(stage__pipeline=pipeline)
    _headline(metrics, leads, since)
    metrics.conversion = _conversion(stages, pipeline, since)
    metrics.time_in_stage = _time_in_stage(stages, pipeline, since)
    closed = leads.filter(
        Q(stage__kind=StageKind.WON, won_at__gte=since) | Q(stage__kind=StageKind.LOST, lost_at__gte=since)
    )
    won = Count("id", filter=Q(stage__kind=StageKind.WON))
    sources = dict(Lead.Source.choices)
    by_source = list(closed.values("source").annotate(won=won, total=Count("id")).order_by())
    metrics.by_source = _rate_bars(by_source, lambda row: sources.get(row["source"], row["source"]))
    owners = closed.values("owner_id", "owner__name", "owner__email")
    by_owner = list(owners.annotate(won=won, total=Count("id")).order_by())
    metrics.by_owner = _rate_bars(by_owner, lambda row: row["owner__name"] or row["owner__email"] or "Unassigned")
    return metrics
