"""Metrics read from the rollups only (never a ticket, lead, quote or run): each function takes MetricFilters and
returns this period's figures with the previous period's, in one or two grouped queries on `DailyRollup`.

What each rollup metric counts is in insights/rollups.py; percentiles come from its log-scale buckets
(insights/histograms.py), so they are estimates within ~9%.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from django.db.models import Case, IntegerField, Q, QuerySet, Sum, Value, When

from .contracts import (
    AgentMetrics,
    AIUsageMetrics,
    Breakdown,
    CsatMetrics,
    Figure,
    LeadVelocityMetrics,
    MetricFilters,
    QuoteCycleMetrics,
    SlaMetrics,
    TicketVolumeMetrics,
)
from .histograms import percentile
from .models import GRAINS, DailyRollup

NOW, BEFORE = 1, 0
TICKET_FILTERS = ("team_id", "channel", "category_id", "tier", "agent_id", "priority")
OWNER_FILTERS = ("agent_id",)
Row = dict


def _narrow(rollups: QuerySet, filters: MetricFilters, dimensions: Iterable[str]) -> QuerySet:
    for name in dimensions:
        value = getattr(filters, name)
        if value not in (None, ""):
            rollups = rollups.filter(**{name: value})
    return rollups


def _grain(filters: MetricFilters, dims: Iterable[str], group: Iterable[str]) -> str:
    """The coarsest grain that keeps every dimension filtered on or grouped by (models.GRAINS)."""
    needed = {name for name in dims if getattr(filters, name) not in (None, "")}
    needed |= {name for name in group if name != "bucket"}
    for grain, kept in GRAINS.items():
        if needed <= set(kept):
            return grain
    return "detail"


def _rollups(filters: MetricFilters, dims: Iterable[str], group: Iterable[str] = ()) -> QuerySet:
    dims = tuple(dims)
    return _narrow(DailyRollup.objects.filter(grain=_grain(filters, dims, group)), filters, dims)


def _rows(filters: MetricFilters, metrics: Iterable[str], group: Iterable[str] = (), *, dims=TICKET_FILTERS) -> Rows:
    """Counts and totals per (period, metric, *group) for this period and the previous one: one query, on the
    coarsest grain that has the dimensions it needs."""
    group = tuple(group)
    rollups = _rollups(filters, dims, group).filter(
        metric__in=list(metrics), day__gte=filters.previous().start, day__lte=filters.end
    )
    period = Case(When(day__gte=filters.start, then=Value(NOW)), default=Value(BEFORE), output_field=IntegerField())
    return Rows(rollups.order_by().values("metric", *group, period=period).annotate(n=Sum("count"), t=Sum("total")))


class Rows(list):
    """A query's rows, summed once per set of fields a figure matches on: a table of 24 agents × 5 figures reads
    the rows once, not 240 times."""

    def group(self, fields: tuple[str, ...]) -> dict[tuple, list]:
        groups = self.__dict__.setdefault("groups", {})
        if fields not in groups:
            result: dict[tuple, list] = {}
            for row in self:
                entry = result.setdefault((row["period"], row["metric"], *(row[f] for f in fields)), [0, 0, {}])
                entry[0] += row["n"]
                entry[1] += row["t"]
                if "bucket" in row:
                    entry[2][row["bucket"]] = entry[2].get(row["bucket"], 0) + row["n"]
            groups[fields] = result
        return groups[fields]

    def entry(self, period: int, metric: str, match: dict) -> list | None:
        fields = tuple(sorted(match))
        return self.group(fields).get((period, metric, *(match[f] for f in fields)))


def _sum(rows: Rows, period: int, metric: str, field: str = "n", **match) -> int:
    entry = rows.entry(period, metric, match)
    return 0 if entry is None else entry[0 if field == "n" else 1]


def _histogram(rows: Rows, period: int, metric: str, **match) -> list[tuple[int, int]]:
    entry = rows.entry(period, metric, match)
    return [] if entry is None else list(entry[2].items())


def _figure(compute: Callable[[int], float | None]) -> Figure:
    return Figure(compute(NOW), compute(BEFORE))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _count(rows: Rows, metric: str, **match) -> Figure:
    return _figure(lambda period: _sum(rows, period, metric, **match))


def _pct(rows: Rows, metric: str, share: float, *, scale: float = 1.0, **match) -> Figure:
    def compute(period: int) -> float | None:
        value = percentile(_histogram(rows, period, metric, **match), share)
        return value / scale if value is not None else None

    return _figure(compute)


def _keys(rows: Rows, field: str) -> list:
    return sorted({row[field] for row in rows if row["period"] == NOW}, key=lambda key: (str(type(key)), key))


# --- helpdesk ---------------------------------------------------------------------------------------------------


def sla_metrics(filters: MetricFilters, *, breakdowns: Iterable[str] = ("team_id", "priority")) -> SlaMetrics:
    """Adherence (tickets created in the period that kept their SLA), first response and resolution percentiles
    in minutes, breaches by team and by priority (those of `breakdowns`). One query, and one per breakdown."""
    rows = _rows(filters, ("sla_tracked", "sla_breached", "first_response", "solved"), ("bucket",))

    def adherence(period: int, *, lines: Rows = rows, **match) -> float | None:
        tracked = _sum(lines, period, "sla_tracked", **match)
        return 1 - _sum(lines, period, "sla_breached", **match) / tracked if tracked else None

    def breakdown(field: str) -> tuple[Breakdown, ...]:
        lines = _rows(filters, ("sla_tracked", "sla_breached"), (field,))
        result = []
        for key in _keys([row for row in lines if row["metric"] == "sla_tracked"], field):
            figures = {
                "tracked": _count(lines, "sla_tracked", **{field: key}),
                "breached": _count(lines, "sla_breached", **{field: key}),
                "adherence": _figure(lambda period, key=key: adherence(period, lines=lines, **{field: key})),
            }
            result.append(Breakdown(key, figures))
        return tuple(result)

    return SlaMetrics(
        tracked=_count(rows, "sla_tracked"),
        breached=_count(rows, "sla_breached"),
        adherence=_figure(adherence),
        first_response_p50=_pct(rows, "first_response", 0.5),
        first_response_p90=_pct(rows, "first_response", 0.9),
        resolution_p50=_pct(rows, "solved", 0.5),
        resolution_p90=_pct(rows, "solved", 0.9),
        by_team=breakdown("team_id") if "team_id" in breakdowns else (),
        by_priority=breakdown("priority") if "priority" in breakdowns else (),
    )


def csat_metrics(filters: MetricFilters) -> CsatMetrics:
    """Answers, mean rating, share satisfied (4–5) and this period's distribution. One query."""
    rows = _rows(filters, ("csat",), ("bucket",))
    answers = _count(rows, "csat")
    satisfied = _figure(
        lambda p: _ratio(_sum(rows, p, "csat", bucket=4) + _sum(rows, p, "csat", bucket=5), _sum(rows, p, "csat"))
    )
    return CsatMetrics(
        answers=answers,
        average=_figure(lambda p: _ratio(_sum(rows, p, "csat", "t"), _sum(rows, p, "csat"))),
        satisfied=satisfied,
        distribution={rating: _sum(rows, NOW, "csat", bucket=rating) for rating in range(1, 6)},
    )


def ticket_volume_metrics(
    filters: MetricFilters,
    *,
    breakdowns: Iterable[str] = ("channel", "team_id", "category_id"),
    backlog: bool = True,
) -> TicketVolumeMetrics:
    """Tickets created and solved in the period, the backlog at its end, and created/solved by channel, team and
    category (those of `breakdowns`). Two queries (one without the backlog, which sums every day up to the period's
    end) and one per breakdown, each on the coarsest grain it can."""
    rows = _rows(filters, ("created", "solved"))

    def breakdown(field: str) -> tuple[Breakdown, ...]:
        lines = _rows(filters, ("created", "solved"), (field,))
        return tuple(
            Breakdown(
                key,
                {
                    "created": _count(lines, "created", **{field: key}),
                    "solved": _count(lines, "solved", **{field: key}),
                },
            )
            for key in _keys(lines, field)
        )

    return TicketVolumeMetrics(
        created=_count(rows, "created"),
        solved=_count(rows, "solved"),
        backlog=_backlog(filters) if backlog else Figure(None, None),
        by_channel=breakdown("channel") if "channel" in breakdowns else (),
        by_team=breakdown("team_id") if "team_id" in breakdowns else (),
        by_category=breakdown("category_id") if "category_id" in breakdowns else (),
    )


def _backlog(filters: MetricFilters) -> Figure:
    """Open at the end of each period: created up to then minus solved up to then (tickets solved later were open)."""
    ends = {NOW: filters.end, BEFORE: filters.previous().end}
    sums = {
        f"{metric}_{period}": Sum("count", filter=Q(metric=metric, day__lte=end))
        for period, end in ends.items()
        for metric in ("created", "solved")
    }
    rollups = _rollups(filters, TICKET_FILTERS).filter(metric__in=("created", "solved"), day__lte=filters.end)
    figures = rollups.aggregate(**sums)
    return _figure(lambda p: (figures[f"created_{p}"] or 0) - (figures[f"solved_{p}"] or 0))


def agent_performance_metrics(filters: MetricFilters) -> AgentMetrics:
    """Per assignee: tickets solved, first response and resolution medians (minutes), CSAT answers and mean. One
    query; agents with no activity in the period are left out."""
    rows = _rows(filters, ("solved", "first_response", "csat"), ("agent_id", "bucket"))
    agents = []
    for agent in _keys(rows, "agent_id"):
        figures = {
            "solved": _count(rows, "solved", agent_id=agent),
            "first_response_p50": _pct(rows, "first_response", 0.5, agent_id=agent),
            "resolution_p50": _pct(rows, "solved", 0.5, agent_id=agent),
            "csat_answers": _count(rows, "csat", agent_id=agent),
            "csat_average": _figure(
                lambda p, a=agent: _ratio(_sum(rows, p, "csat", "t", agent_id=a), _sum(rows, p, "csat", agent_id=a))
            ),
        }
        agents.append(Breakdown(agent, figures))
    agents.sort(key=lambda line: -(line.figures["solved"].value or 0))
    return AgentMetrics(agents=tuple(agents))


# --- sales --------------------------------------------------------------------------------------------------------

DAY_MINUTES = 1440.0


def lead_velocity_metrics(filters: MetricFilters) -> LeadVelocityMetrics:
    """Leads created, won and lost in the period, win rate, cycle (created → won) median in days, open leads at the
    end, value won and pipeline velocity per currency, per owner. Three queries."""
    metrics = ("lead_created", "lead_won", "lead_lost", "lead_cycle")
    rows = _rows(filters, metrics, ("label", "bucket"), dims=OWNER_FILTERS)
    owners = _rows(filters, ("lead_won", "lead_lost"), ("agent_id",), dims=OWNER_FILTERS)
    open_at_end = _open_leads(filters)

    def win_rate(period: int, *, lines: Rows = rows, **match) -> float | None:
        won, lost = _sum(lines, period, "lead_won", **match), _sum(lines, period, "lead_lost", **match)
        return _ratio(won, won + lost)

    def velocity(period: int, currency: str) -> float | None:
        won = _sum(rows, period, "lead_won", label=currency)
        cycle = _ratio(
            _sum(rows, period, "lead_cycle", "t", label=currency), _sum(rows, period, "lead_cycle", label=currency)
        )
        rate = win_rate(period, label=currency)
        if not won or not cycle or rate is None:
            return None
        average_value = _sum(rows, period, "lead_won", "t", label=currency) / 100 / won
        open_leads = open_at_end[period].get(currency, 0)
        return open_leads * rate * average_value / max(cycle / 86400, 1 / 24)

    currencies = sorted({row["label"] for row in rows} | set(open_at_end[NOW]))
    by_owner = tuple(
        Breakdown(
            owner,
            {
                "won": _count(owners, "lead_won", agent_id=owner),
                "win_rate": _figure(lambda p, o=owner: win_rate(p, lines=owners, agent_id=o)),
            },
        )
        for owner in _keys(owners, "agent_id")
    )
    return LeadVelocityMetrics(
        created=_count(rows, "lead_created"),
        won=_count(rows, "lead_won"),
        lost=_count(rows, "lead_lost"),
        win_rate=_figure(win_rate),
        cycle_days_p50=_pct(rows, "lead_cycle", 0.5, scale=DAY_MINUTES),
        open_at_end=_figure(lambda p: sum(open_at_end[p].values())),
        won_value={c: _figure(lambda p, c=c: _sum(rows, p, "lead_won", "t", label=c) / 100) for c in currencies},
        velocity_per_day={c: _figure(lambda p, c=c: velocity(p, c)) for c in currencies},
        by_owner=by_owner,
    )


def _open_leads(filters: MetricFilters) -> dict[int, dict[str, int]]:
    """Leads open at the end of each period, per currency: created by then minus won or lost by then."""
    ends = {NOW: filters.end, BEFORE: filters.previous().end}
    rollups = _rollups(filters, OWNER_FILTERS, ("label",)).filter(
        metric__in=("lead_created", "lead_won", "lead_lost"), day__lte=filters.end
    )
    sums = {
        f"{metric}_{period}": Sum("count", filter=Q(metric=metric, day__lte=end))
        for period, end in ends.items()
        for metric in ("lead_created", "lead_won", "lead_lost")
    }
    result: dict[int, dict[str, int]] = {NOW: {}, BEFORE: {}}
    for row in rollups.order_by().values("label").annotate(**sums):
        for period in ends:
            opened = (
                (row[f"lead_created_{period}"] or 0)
                - (row[f"lead_won_{period}"] or 0)
                - (row[f"lead_lost_{period}"] or 0)
            )
            result[period][row["label"]] = opened
    return result


def quote_cycle_time_metrics(filters: MetricFilters) -> QuoteCycleMetrics:
    """Quotes created, sent, and closed in the period (accepted, declined, expired), win rate, cycle time (created →
    answer) median and p90 in days, per owner. Two queries. Same definitions as quotes/metrics.py."""
    metrics = ("quote_created", "quote_sent", "quote_accepted", "quote_declined", "quote_expired", "quote_cycle")
    rows = _rows(filters, metrics, ("bucket",), dims=OWNER_FILTERS)
    owners = _rows(filters, metrics[2:], ("agent_id", "bucket"), dims=OWNER_FILTERS)

    def win_rate(period: int, *, lines: Rows = rows, **match) -> float | None:
        accepted = _sum(lines, period, "quote_accepted", **match)
        closed = (
            accepted + _sum(lines, period, "quote_declined", **match) + _sum(lines, period, "quote_expired", **match)
        )
        return _ratio(accepted, closed)

    by_owner = tuple(
        Breakdown(
            owner,
            {
                "accepted": _count(owners, "quote_accepted", agent_id=owner),
                "win_rate": _figure(lambda p, o=owner: win_rate(p, lines=owners, agent_id=o)),
                "cycle_days_p50": _pct(owners, "quote_cycle", 0.5, scale=DAY_MINUTES, agent_id=owner),
            },
        )
        for owner in _keys(owners, "agent_id")
    )
    return QuoteCycleMetrics(
        created=_count(rows, "quote_created"),
        sent=_count(rows, "quote_sent"),
        accepted=_count(rows, "quote_accepted"),
        declined=_count(rows, "quote_declined"),
        expired=_count(rows, "quote_expired"),
        win_rate=_figure(win_rate),
        cycle_days_p50=_pct(rows, "quote_cycle", 0.5, scale=DAY_MINUTES),
        cycle_days_p90=_pct(rows, "quote_cycle", 0.9, scale=DAY_MINUTES),
        by_owner=by_owner,
    )


# --- AI -------------------------------------------------------------------------------------------------------------

_AI = ("ai_run", "ai_failed", "ai_accepted", "ai_edited", "ai_rejected", "ai_edit_distance")


def ai_usage_metrics(filters: MetricFilters) -> AIUsageMetrics:
    """Runs, cost, failures, acceptance, use after editing and mean edit distance, in total and per feature and
    per provider (feedback counts on its run's day). Three queries."""

    def figures(rows: Rows, **match) -> dict[str, Figure]:
        def rated(p: int) -> int:
            return sum(_sum(rows, p, metric, **match) for metric in ("ai_accepted", "ai_edited", "ai_rejected"))

        return {
            "runs": _count(rows, "ai_run", **match),
            "cost_usd": _figure(lambda p: _sum(rows, p, "ai_run", "t", **match) / 1_000_000),
            "failed": _count(rows, "ai_failed", **match),
            "acceptance": _figure(lambda p: _ratio(_sum(rows, p, "ai_accepted", **match), rated(p))),
            "used": _figure(
                lambda p: _ratio(_sum(rows, p, "ai_accepted", **match) + _sum(rows, p, "ai_edited", **match), rated(p))
            ),
            "edit_distance": _figure(
                lambda p: _ratio(
                    _sum(rows, p, "ai_edit_distance", "t", **match), _sum(rows, p, "ai_edit_distance", **match)
                )
            ),
        }

    def breakdown(field: str) -> tuple[Breakdown, ...]:
        rows = _rows(filters, _AI, (field,), dims=())
        return tuple(Breakdown(key, figures(rows, **{field: key})) for key in _keys(rows, field))

    return AIUsageMetrics(
        **figures(_rows(filters, _AI, dims=())),
        by_feature=breakdown("label"),
        by_provider=breakdown("channel"),
    )


# --- series ---------------------------------------------------------------------------------------------------------

SOURCE_FILTERS = {"tickets": TICKET_FILTERS, "leads": OWNER_FILTERS, "quotes": OWNER_FILTERS, "ai": ()}


def daily_counts(filters: MetricFilters, source: str, metrics: Iterable[str]) -> dict[str, dict[date, int]]:
    """How many of each rollup metric fell on each day of the period (days without any are absent). One query."""
    rollups = _rollups(filters, SOURCE_FILTERS[source]).filter(
        metric__in=list(metrics), day__gte=filters.start, day__lte=filters.end
    )
    result: dict[str, dict[date, int]] = {metric: {} for metric in metrics}
    for row in rollups.order_by().values("metric", "day").annotate(n=Sum("count")):
        result[row["metric"]][row["day"]] = row["n"]
    return result
