"""The widget catalog: every number, trend line, bar chart, table and funnel a dashboard can show, each built from
insights' metrics (the rollups, never raw tickets) for one set of filters, with the list behind it (drill-down:
the ticket, lead or quote list with the same period and dimensions in its query string).

An entry names its `source` (tickets, leads, quotes or ai): which of MetricFilters' dimensions apply to it (tickets
all; leads and quotes the owner; AI none) and which list it drills into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from accounts import facade as accounts
from helpdesk import facade as helpdesk

from . import metrics
from .contracts import Breakdown, Figure, MetricFilters, Series, WidgetData

SOURCE_DIMENSIONS = {
    "tickets": ("team_id", "channel", "category_id", "tier", "agent_id", "priority"),
    "leads": ("agent_id",),
    "quotes": ("agent_id",),
    "ai": (),
}
WEEKLY_AFTER_DAYS = 92  # longer periods draw one point a week: a year of daily points is unreadable
AI_PERIODS = (7, 30, 90)


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    kind: str
    source: str
    group: str
    description: str
    build: Callable[[Context], WidgetData]

    def dimensions(self) -> tuple[str, ...]:
        return SOURCE_DIMENSIONS[self.source]


class Context:
    """One render's filters, with each metric computed once however many widgets read it, and the names of
    teams, categories and people looked up once."""

    def __init__(self, filters: MetricFilters) -> None:
        self.filters = filters
        self._memo: dict[Any, Any] = {}

    def metric(self, function: Callable[..., Any], **options: Any) -> Any:
        """`function(filters, **options)`, computed once per render."""
        key = (function, tuple(sorted(options.items())))
        if key not in self._memo:
            self._memo[key] = function(self.filters, **options)
        return self._memo[key]

    @cached_property
    def dims(self):
        return helpdesk.ticket_dimensions()

    def people(self, ids: Iterable[int]) -> dict[int, str]:
        known = self._memo.setdefault("people", {})
        wanted = [pk for pk in ids if pk and pk not in known]
        if wanted:
            known.update(accounts.user_names(wanted))
        return known


def for_source(filters: MetricFilters, source: str) -> MetricFilters:
    """The filters an entry of `source` honours: the others are cleared, so they neither narrow nor mislead."""
    kept = SOURCE_DIMENSIONS[source]
    ignored = [name for name in SOURCE_DIMENSIONS["tickets"] if name not in kept]
    cleared = {name: (None if name.endswith("_id") else "") for name in ignored}
    return replace(filters, **cleared)


# --- drill-down ---------------------------------------------------------------------------------------------------


def _range(prefix: str, filters: MetricFilters) -> dict[str, str]:
    return {f"{prefix}_from": filters.start.isoformat(), f"{prefix}_to": filters.end.isoformat()}


def _id_or_none(param: str, value: int | None) -> dict[str, str]:
    """A list's id-or-"none" parameter (0 is how rollups count the unassigned and the unfiled)."""
    return {} if value is None else {param: "none" if value == 0 else str(value)}


def tickets_url(filters: MetricFilters, **params: str) -> str:
    query = {**_id_or_none("team", filters.team_id), **_id_or_none("assignee", filters.agent_id)}
    for param, value in (
        ("category", filters.category_id),
        ("channel", filters.channel),
        ("tier", filters.tier),
        ("priority", filters.priority),
    ):
        if value not in (None, ""):
            query[param] = str(value)
    return f"{reverse('tickets:ticket_list')}?{urlencode({**query, **params})}"


def _owned_url(name: str, filters: MetricFilters, **params: str) -> str:
    query = _id_or_none("owner", filters.agent_id)
    return f"{reverse(name)}?{urlencode({**query, **params})}"


def leads_url(filters: MetricFilters, **params: str) -> str:
    return _owned_url("leads:lead_list", filters, **params)


def quotes_url(filters: MetricFilters, **params: str) -> str:
    return _owned_url("quotes:quote_list", filters, **params)


def ai_url(filters: MetricFilters) -> str:
    days = min(AI_PERIODS, key=lambda period: abs(period - filters.days))
    return f"{reverse('ai:usage')}?{urlencode({'days': days})}"


# --- building blocks ----------------------------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _days(filters: MetricFilters) -> list[date]:
    return [filters.start + timedelta(days=offset) for offset in range(filters.days)]


def _trend(ctx: Context, key: str, title: str, source: str, lines: dict[str, str], drill: str) -> WidgetData:
    """Counts per day (per week over long periods) of each rollup metric in `lines` (metric → series label)."""
    counts = metrics.daily_counts(ctx.filters, source, lines)
    days = _days(ctx.filters)
    if ctx.filters.days > WEEKLY_AFTER_DAYS:
        weeks = sorted({_monday(day) for day in days})
        labels = tuple(week.isoformat() for week in weeks)
        series = []
        for metric, label in lines.items():
            totals = dict.fromkeys(weeks, 0)
            for day, n in counts[metric].items():
                totals[_monday(day)] += n
            series.append(Series(label, tuple(float(totals[week]) for week in weeks)))
        series = tuple(series)
        return WidgetData(
            key=key, title=title, kind="trend", labels=labels, series=series, drill=drill, note="One point a week."
        )
    series = tuple(
        Series(label, tuple(float(counts[metric].get(day, 0)) for day in days)) for metric, label in lines.items()
    )
    labels = tuple(day.isoformat() for day in days)
    return WidgetData(key=key, title=title, kind="trend", labels=labels, series=series, drill=drill)


def _bars(
    key: str,
    title: str,
    lines: tuple[Breakdown, ...],
    names: dict,
    figures: dict[str, str],
    *,
    link: Callable[[Any], str],
    unit: str = "count",
    top: int = 12,
) -> WidgetData:
    """One bar group per breakdown line (named through `names`), one series per figure (key → label)."""
    lines = sorted(lines, key=lambda line: -(line.figures[next(iter(figures))].value or 0))[:top]
    labels = tuple(str(names.get(line.key, line.key or "None")) for line in lines)
    series = tuple(Series(label, tuple(line.figures[name].value for line in lines)) for name, label in figures.items())
    links = {label: link(line.key) for label, line in zip(labels, lines, strict=True)}
    return WidgetData(key=key, title=title, kind="bar", unit=unit, labels=labels, series=series, links=links)


def _table(key: str, title: str, columns: tuple[tuple[str, str], ...], rows: list[tuple], *, links=None) -> WidgetData:
    return WidgetData(
        key=key,
        title=title,
        kind="table",
        columns=tuple(name for name, _ in columns),
        column_units=tuple(unit for _, unit in columns),
        rows=tuple(rows),
        links=links or {},
    )


def _with(filters: MetricFilters, **dimensions: Any) -> MetricFilters:
    return replace(filters, **dimensions)


# --- numbers --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A number widget: one Figure of a metric, how it reads, and the list behind it."""

    metric: Callable[..., Any]
    field: str
    drill: Callable[[MetricFilters], str]
    unit: str = "count"
    better: str = "up"


def _tickets(prefix: str, **params: str) -> Callable[[MetricFilters], str]:
    return lambda filters: tickets_url(filters, **params, **_range(prefix, filters))


def _leads(prefix: str, **params: str) -> Callable[[MetricFilters], str]:
    return lambda filters: leads_url(filters, **params, **_range(prefix, filters))


def _quotes(prefix: str, **params: str) -> Callable[[MetricFilters], str]:
    return lambda filters: quotes_url(filters, **params, **_range(prefix, filters))


def ticket_headlines(filters: MetricFilters):
    """Created and solved: what those numbers read, without the breakdowns the bar charts ask for, nor the backlog
    (a sum over every day up to the period's end)."""
    return metrics.ticket_volume_metrics(filters, breakdowns=(), backlog=False)


def ticket_backlog(filters: MetricFilters):
    return metrics.ticket_volume_metrics(filters, breakdowns=())


def sla_headlines(filters: MetricFilters):
    return metrics.sla_metrics(filters, breakdowns=())


volume, sla, csat = ticket_headlines, sla_headlines, metrics.csat_metrics
lead, quote, ai = metrics.lead_velocity_metrics, metrics.quote_cycle_time_metrics, metrics.ai_usage_metrics
NUMBERS: dict[str, Number] = {
    "tickets_created": Number(volume, "created", _tickets("created"), better=""),
    "tickets_solved": Number(volume, "solved", _tickets("solved")),
    "ticket_backlog": Number(
        ticket_backlog,
        "backlog",
        lambda f: tickets_url(f, status="unsolved", created_to=f.end.isoformat()),
        better="down",
    ),
    "sla_adherence": Number(sla, "adherence", _tickets("created", sla="breached"), unit="pct"),
    "first_response_time": Number(sla, "first_response_p50", _tickets("responded"), unit="minutes", better="down"),
    "resolution_time": Number(sla, "resolution_p90", _tickets("solved"), unit="minutes", better="down"),
    "csat_average": Number(csat, "average", _tickets("csat", csat="answered"), unit="rating"),
    "leads_created": Number(lead, "created", _leads("created")),
    "leads_won": Number(lead, "won", _leads("won", status="won")),
    "lead_win_rate": Number(lead, "win_rate", _leads("lost", status="lost"), unit="pct"),
    "lead_cycle": Number(lead, "cycle_days_p50", _leads("won", status="won"), unit="days", better="down"),
    "open_leads": Number(
        lead, "open_at_end", lambda f: leads_url(f, status="open", created_to=f.end.isoformat()), better=""
    ),
    "quotes_sent": Number(quote, "sent", _quotes("sent")),
    "quote_win_rate": Number(quote, "win_rate", _quotes("answered"), unit="pct"),
    "quote_cycle": Number(quote, "cycle_days_p50", _quotes("answered"), unit="days", better="down"),
    "ai_runs": Number(ai, "runs", ai_url, better=""),
    "ai_acceptance": Number(ai, "acceptance", ai_url, unit="pct"),
    "ai_cost": Number(ai, "cost_usd", ai_url, unit="usd", better="down"),
}


def _number(key: str, title: str) -> Callable[[Context], WidgetData]:
    spec = NUMBERS[key]

    def build(ctx: Context) -> WidgetData:
        figure = getattr(ctx.metric(spec.metric), spec.field)
        return WidgetData(key=key, title=title, kind="number", unit=spec.unit, better=spec.better, figure=figure,
                          drill=spec.drill(ctx.filters))  # fmt: skip

    return build


# --- support ------------------------------------------------------------------------------------------------------


def tickets_trend(ctx: Context) -> WidgetData:
    return _trend(
        ctx,
        "tickets_trend",
        "Tickets created and solved",
        "tickets",
        {"created": "Created", "solved": "Solved"},
        tickets_url(ctx.filters, **_range("created", ctx.filters)),
    )


def _ticket_bars(ctx: Context, key: str, title: str, field: str, names: dict, param: str) -> WidgetData:
    breakdown = {"channel": "channel", "team": "team_id", "category": "category_id"}[field]
    lines = getattr(ctx.metric(metrics.ticket_volume_metrics, breakdowns=(breakdown,)), f"by_{field}")

    def link(value: Any) -> str:
        value = "none" if value in (0, "") and param in ("team", "category") else value
        return tickets_url(ctx.filters, **{param: str(value)}, **_range("created", ctx.filters))

    return _bars(key, title, lines, names, {"created": "Created", "solved": "Solved"}, link=link)


def tickets_by_channel(ctx: Context) -> WidgetData:
    return _ticket_bars(ctx, "tickets_by_channel", "Tickets by channel", "channel", ctx.dims.channels, "channel")


def tickets_by_team(ctx: Context) -> WidgetData:
    names = {0: "No team", **ctx.dims.teams}
    return _ticket_bars(ctx, "tickets_by_team", "Tickets by team", "team", names, "team")


def tickets_by_category(ctx: Context) -> WidgetData:
    names = {0: "No category", **ctx.dims.categories}
    return _ticket_bars(ctx, "tickets_by_category", "Tickets by category", "category", names, "category")


def sla_breaches(ctx: Context) -> WidgetData:
    sla = ctx.metric(metrics.sla_metrics, breakdowns=("team_id",))
    names = {0: "No team", **ctx.dims.teams}
    rows, links = [], {}
    for line in sorted(sla.by_team, key=lambda line: -(line.figures["breached"].value or 0)):
        name = names.get(line.key, str(line.key))
        rows.append(
            (name, line.figures["tracked"].value, line.figures["breached"].value, line.figures["adherence"].value)
        )
        team = "none" if line.key == 0 else str(line.key)
        links[name] = tickets_url(ctx.filters, team=team, sla="breached", **_range("created", ctx.filters))
    columns = (("Team", ""), ("With an SLA", "count"), ("Breached", "count"), ("Adherence", "pct"))
    return _table("sla_breaches", "SLA breaches by team", columns, rows, links=links)


def csat_distribution(ctx: Context) -> WidgetData:
    distribution = ctx.metric(metrics.csat_metrics).distribution
    labels = tuple(f"{rating} ★" for rating in range(1, 6))
    series = (Series("Answers", tuple(float(distribution.get(rating, 0)) for rating in range(1, 6))),)
    links = {
        label: tickets_url(ctx.filters, csat="answered", rating=str(rating), **_range("csat", ctx.filters))
        for rating, label in enumerate(labels, start=1)
    }
    return WidgetData(
        key="csat_distribution", title="Satisfaction ratings", kind="bar", labels=labels, series=series, links=links
    )


def agent_performance(ctx: Context) -> WidgetData:
    agents = ctx.metric(metrics.agent_performance_metrics).agents
    names = {0: "Unassigned", **ctx.people(line.key for line in agents)}
    rows, links = [], {}
    for line in agents:
        name = names.get(line.key, f"#{line.key}")
        f = line.figures
        rows.append(
            (
                name,
                f["solved"].value,
                f["first_response_p50"].value,
                f["resolution_p50"].value,
                f["csat_answers"].value,
                f["csat_average"].value,
            )
        )
        assignee = "none" if line.key == 0 else str(line.key)
        links[name] = tickets_url(_with(ctx.filters, agent_id=None), assignee=assignee, **_range("solved", ctx.filters))
    columns = (
        ("Agent", ""),
        ("Solved", "count"),
        ("First response (median)", "minutes"),
        ("Resolution (median)", "minutes"),
        ("CSAT answers", "count"),
        ("CSAT", "rating"),
    )
    return _table("agent_performance", "Agent performance", columns, rows, links=links)


# --- sales --------------------------------------------------------------------------------------------------------


def won_value(ctx: Context) -> WidgetData:
    velocity = ctx.metric(metrics.lead_velocity_metrics)
    rows, links = [], {}
    for currency, figure in sorted(velocity.won_value.items()):
        per_day = velocity.velocity_per_day.get(currency, Figure(None, None))
        rows.append((currency, figure.value, figure.previous, per_day.value))
        links[currency] = leads_url(ctx.filters, status="won", currency=currency, **_range("won", ctx.filters))
    columns = (("Currency", ""), ("Won", "money"), ("Previous period", "money"), ("Pipeline velocity a day", "money"))
    return _table("won_value", "Value won", columns, rows, links=links)


def leads_trend(ctx: Context) -> WidgetData:
    return _trend(
        ctx,
        "leads_trend",
        "Leads created, won and lost",
        "leads",
        {"lead_created": "Created", "lead_won": "Won", "lead_lost": "Lost"},
        leads_url(ctx.filters, **_range("created", ctx.filters)),
    )


def sales_funnel(ctx: Context) -> WidgetData:
    """The period's flow from lead to deal, each step counted on its own day (a funnel of flows, not cohorts)."""
    lead = ctx.metric(metrics.lead_velocity_metrics)
    quote = ctx.metric(metrics.quote_cycle_time_metrics)
    steps = (
        ("Leads created", lead.created, leads_url(ctx.filters, **_range("created", ctx.filters))),
        ("Quotes created", quote.created, quotes_url(ctx.filters, **_range("created", ctx.filters))),
        ("Quotes sent", quote.sent, quotes_url(ctx.filters, **_range("sent", ctx.filters))),
        (
            "Quotes accepted",
            quote.accepted,
            quotes_url(ctx.filters, status="accepted", **_range("answered", ctx.filters)),
        ),
        ("Leads won", lead.won, leads_url(ctx.filters, status="won", **_range("won", ctx.filters))),
    )
    return WidgetData(
        key="sales_funnel",
        title="Sales funnel",
        kind="funnel",
        labels=tuple(label for label, _, _ in steps),
        series=(
            Series("This period", tuple(figure.value for _, figure, _ in steps)),
            Series("Previous period", tuple(figure.previous for _, figure, _ in steps)),
        ),
        links={label: url for label, _, url in steps},
        note="Each step counts what happened in the period, whenever its lead began.",
    )


def _owner_table(ctx: Context, key: str, title: str, lines, columns, values, link) -> WidgetData:
    names = {0: "No owner", **ctx.people(line.key for line in lines)}
    rows, links = [], {}
    for line in lines:
        name = names.get(line.key, f"#{line.key}")
        rows.append((name, *values(line.figures)))
        links[name] = link("none" if line.key == 0 else str(line.key))
    return _table(key, title, columns, rows, links=links)


def leads_by_owner(ctx: Context) -> WidgetData:
    lines = ctx.metric(metrics.lead_velocity_metrics).by_owner
    unowned = _with(ctx.filters, agent_id=None)
    return _owner_table(
        ctx,
        "leads_by_owner",
        "Leads won by owner",
        lines,
        (("Owner", ""), ("Won", "count"), ("Win rate", "pct")),
        lambda f: (f["won"].value, f["win_rate"].value),
        lambda owner: leads_url(unowned, owner=owner, status="won", **_range("won", ctx.filters)),
    )


def quote_outcomes(ctx: Context) -> WidgetData:
    quote = ctx.metric(metrics.quote_cycle_time_metrics)
    outcomes = (("Accepted", "accepted"), ("Declined", "declined"), ("Expired", "expired"))
    figures = {label: getattr(quote, status) for label, status in outcomes}
    return WidgetData(
        key="quote_outcomes",
        title="Quote answers",
        kind="bar",
        labels=tuple(figures),
        series=(
            Series("This period", tuple(f.value for f in figures.values())),
            Series("Previous period", tuple(f.previous for f in figures.values())),
        ),
        links={
            label: quotes_url(ctx.filters, status=status, **_range("answered", ctx.filters))
            for label, status in outcomes
        },
    )


def quotes_by_owner(ctx: Context) -> WidgetData:
    lines = ctx.metric(metrics.quote_cycle_time_metrics).by_owner
    unowned = _with(ctx.filters, agent_id=None)
    return _owner_table(
        ctx,
        "quotes_by_owner",
        "Quotes by owner",
        lines,
        (("Owner", ""), ("Accepted", "count"), ("Win rate", "pct"), ("Days to an answer", "days")),
        lambda f: (f["accepted"].value, f["win_rate"].value, f["cycle_days_p50"].value),
        lambda owner: quotes_url(unowned, owner=owner, **_range("answered", ctx.filters)),
    )


# --- AI -----------------------------------------------------------------------------------------------------------


def ai_by_feature(ctx: Context) -> WidgetData:
    lines = ctx.metric(metrics.ai_usage_metrics).by_feature
    rows = [
        (
            line.key,
            line.figures["runs"].value,
            line.figures["acceptance"].value,
            line.figures["used"].value,
            line.figures["edit_distance"].value,
            line.figures["cost_usd"].value,
        )
        for line in lines
    ]
    columns = (
        ("Feature", ""),
        ("Runs", "count"),
        ("Accepted", "pct"),
        ("Used (incl. edited)", "pct"),
        ("Edit distance", "count"),
        ("Cost", "usd"),
    )
    links = {line.key: ai_url(ctx.filters) for line in lines}
    return _table("ai_by_feature", "AI by feature", columns, rows, links=links)


# --- the catalog --------------------------------------------------------------------------------------------------


def _entries() -> dict[str, Entry]:
    support, sales, ai = "Support", "Sales", "AI"
    table = (
        ("tickets_created", "Tickets created", "number", "tickets", support, "Tickets opened in the period."),
        ("tickets_solved", "Tickets solved", "number", "tickets", support, "Tickets solved in the period."),
        (
            "ticket_backlog",
            "Open at the end of the period",
            "number",
            "tickets",
            support,
            "Tickets created by the period's end and not solved by then.",
        ),
        (tickets_trend, "Tickets created and solved", "trend", "tickets", support, "Per day (per week past 92 days)."),
        (tickets_by_channel, "Tickets by channel", "bar", "tickets", support, "Created and solved, per channel."),
        (tickets_by_team, "Tickets by team", "bar", "tickets", support, "Created and solved, per team."),
        (tickets_by_category, "Tickets by category", "bar", "tickets", support, "Created and solved, per category."),
        (
            "sla_adherence",
            "SLA adherence",
            "number",
            "tickets",
            support,
            "Share of the period's tickets with an SLA that kept it.",
        ),
        (sla_breaches, "SLA breaches by team", "table", "tickets", support, "Tickets with an SLA and breaches."),
        (
            "first_response_time",
            "First response (median)",
            "number",
            "tickets",
            support,
            "Minutes from creation to the first public reply.",
        ),
        (
            "resolution_time",
            "Resolution time (90th percentile)",
            "number",
            "tickets",
            support,
            "Nine in ten tickets solved in the period were solved within this.",
        ),
        ("csat_average", "Customer satisfaction", "number", "tickets", support, "Mean rating, 1–5."),
        (csat_distribution, "Satisfaction ratings", "bar", "tickets", support, "Answers per rating."),
        (
            agent_performance,
            "Agent performance",
            "table",
            "tickets",
            support,
            "Solved, response and resolution medians, CSAT per agent.",
        ),
        ("leads_created", "New leads", "number", "leads", sales, "Leads created in the period."),
        ("leads_won", "Leads won", "number", "leads", sales, "Leads won in the period."),
        ("lead_win_rate", "Lead win rate", "number", "leads", sales, "Won ÷ (won + lost) in the period."),
        ("lead_cycle", "Days to win (median)", "number", "leads", sales, "From a lead's creation to its win."),
        ("open_leads", "Open leads at the end", "number", "leads", sales, "Neither won nor lost by the period's end."),
        (won_value, "Value won", "table", "leads", sales, "Per currency, with pipeline velocity."),
        (leads_trend, "Leads created, won and lost", "trend", "leads", sales, "Per day (per week past 92 days)."),
        (sales_funnel, "Sales funnel", "funnel", "leads", sales, "Leads → quotes → accepted → won."),
        (leads_by_owner, "Leads won by owner", "table", "leads", sales, "Won and win rate per owner."),
        ("quotes_sent", "Quotes sent", "number", "quotes", sales, "Quotes sent to customers in the period."),
        ("quote_win_rate", "Quote win rate", "number", "quotes", sales, "Accepted ÷ answered or expired."),
        ("quote_cycle", "Days to an answer (median)", "number", "quotes", sales, "Creation to answer."),
        (quote_outcomes, "Quote answers", "bar", "quotes", sales, "Accepted, declined and expired."),
        (quotes_by_owner, "Quotes by owner", "table", "quotes", sales, "Accepted, win rate, days to an answer."),
        ("ai_runs", "AI runs", "number", "ai", ai, "Model calls in the period."),
        ("ai_acceptance", "AI output accepted as is", "number", "ai", ai, "Of the outputs people rated."),
        ("ai_cost", "AI cost", "number", "ai", ai, "What cloud providers charged (local runs cost nothing)."),
        (ai_by_feature, "AI by feature", "table", "ai", ai, "Runs, acceptance, edits and cost per feature."),
    )
    entries = {}
    for build, title, kind, source, group, description in table:
        key = build if isinstance(build, str) else build.__name__
        widget = _number(key, title) if isinstance(build, str) else build
        entries[key] = Entry(key, title, kind, source, group, description, widget)
    return entries


CATALOG: dict[str, Entry] = _entries()


def widget_data(key: str, filters: MetricFilters, *, contexts: dict | None = None) -> WidgetData:
    """What catalog entry `key` shows for `filters` (the dimensions its source ignores are cleared). Pass one dict
    of contexts per page: widgets that read the same metric with the same filters then share one computation."""
    entry = CATALOG[key]
    filters = for_source(filters, entry.source)
    contexts = {} if contexts is None else contexts
    if filters not in contexts:
        contexts[filters] = Context(filters)
    return entry.build(contexts[filters])
