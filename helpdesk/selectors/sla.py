"""SLA reads: attainment metrics, the queue figures risk assessment needs, the history the risk model learns from."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Aggregate, Count, F, FloatField, Min, Q
from django.utils import timezone

from ..business_hours import CompiledCalendar, calendar_compiled, default_calendar_compiled
from ..models import AgentProfile, BusinessCalendar, SLAPolicy, SLARiskModel, Team, Ticket, TicketEvent
from ..sla_risk import HIGH, RiskInputs, TrainingRow
from .config import sla_policies_active

TYPICAL_CACHE_SECONDS = 3600
TYPICAL_HISTORY_DAYS = 180
TYPICAL_MIN_SAMPLES = 5
TRAINING_SNAPSHOTS = 3
RUNNING_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont(p) WITHIN GROUP (ORDER BY x); `filter=` becomes FILTER (WHERE …)."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, percentile: float, **extra: Any) -> None:
        super().__init__(expression, percentile=repr(float(percentile)), **extra)


# --- Which policy covers a ticket ---------------------------------------------------------------


def sla_policy_for_ticket(ticket: Ticket, policies: Sequence[SLAPolicy] | None = None) -> SLAPolicy | None:
    """The first active policy (by position) whose priority, customer tier and channel all match the ticket."""
    if policies is None:
        policies = sla_policies_active()
    # The customer is read only when some policy asks for a tier (one query fewer on every ticket write).
    tiered = any(policy.customer_tier for policy in policies)
    tier = ticket.customer.tier if tiered and ticket.customer_id else ""
    for policy in policies:
        if not policy.active:
            continue
        if policy.priority and policy.priority != ticket.priority:
            continue
        if policy.customer_tier and policy.customer_tier != tier:
            continue
        if policy.channel and policy.channel != ticket.channel:
            continue
        return policy
    return None


# --- Metrics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SLAMetrics:
    days: int
    tickets: int  # created in the window with an SLA
    first_response_attainment: float | None  # percent met
    resolution_attainment: float | None
    first_response_median: float | None  # business minutes
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    breached: int
    breaches_by_priority: dict[str, int] = field(default_factory=dict)
    breaches_by_team: dict[str, int] = field(default_factory=dict)
    at_risk: int = 0  # running, not breached yet, warned or predicted high
    breached_open: int = 0


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def sla_metrics_get(*, days: int = 30, now: datetime | None = None) -> SLAMetrics:
    """SLA attainment of the tickets created in the last `days` days, and the open queue's risk: two queries."""
    now = now or timezone.now()
    window = Q(created__gte=now - timedelta(days=days), resolution_due__isnull=False)
    running = Q(status__in=RUNNING_STATUSES, sla_breached=False)
    done = Q(status__in=Ticket.DONE_STATUSES)
    figures = Ticket.objects.filter(window | Q(status__in=Ticket.OPEN_STATUSES)).aggregate(
        tickets=Count("id", filter=window),
        responded=Count("id", filter=window & Q(first_responded_at__isnull=False)),
        responded_in_time=Count("id", filter=window & Q(first_responded_at__lte=F("first_response_due"))),
        unanswered_late=Count("id", filter=window & Q(first_responded_at__isnull=True, first_response_due__lt=now)),
        solved=Count("id", filter=window & done & Q(solved_at__isnull=False)),
        solved_in_time=Count("id", filter=window & done & Q(solved_at__lte=F("resolution_due"))),
        unsolved_late=Count("id", filter=window & ~done & Q(resolution_due__lt=now)),
        first_response_median=Percentile("sla_first_response_minutes", 0.5, filter=window),
        first_response_p90=Percentile("sla_first_response_minutes", 0.9, filter=window),
        resolution_median=Percentile("sla_resolution_minutes", 0.5, filter=window & done),
        resolution_p90=Percentile("sla_resolution_minutes", 0.9, filter=window & done),
        breached=Count("id", filter=window & Q(sla_breached=True)),
        at_risk=Count("id", filter=running & (Q(sla_warned=True) | Q(breach_risk__gte=HIGH))),
        breached_open=Count("id", filter=Q(status__in=Ticket.OPEN_STATUSES, sla_breached=True)),
    )
    by_priority: dict[str, int] = defaultdict(int)
    by_team: dict[str, int] = defaultdict(int)
    rows = Ticket.objects.filter(window, sla_breached=True).values("priority", "team__name").annotate(count=Count("id"))
    for row in rows:
        by_priority[row["priority"]] += row["count"]
        by_team[row["team__name"] or "No team"] += row["count"]
    return SLAMetrics(
        days=days,
        tickets=figures["tickets"],
        first_response_attainment=_percent(
            figures["responded_in_time"], figures["responded"] + figures["unanswered_late"]
        ),
        resolution_attainment=_percent(figures["solved_in_time"], figures["solved"] + figures["unsolved_late"]),
        first_response_median=_rounded(figures["first_response_median"]),
        first_response_p90=_rounded(figures["first_response_p90"]),
        resolution_median=_rounded(figures["resolution_median"]),
        resolution_p90=_rounded(figures["resolution_p90"]),
        breached=figures["breached"],
        breaches_by_priority=_ordered_priorities(by_priority),
        breaches_by_team=dict(sorted(by_team.items(), key=lambda item: (-item[1], item[0]))),
        at_risk=figures["at_risk"],
        breached_open=figures["breached_open"],
    )


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _ordered_priorities(counts: dict[str, int]) -> dict[str, int]:
    order = list(reversed(Ticket.Priority.values))  # urgent first
    return {priority: counts[priority] for priority in order if counts.get(priority)}


# --- What risk assessment reads -----------------------------------------------------------------


@dataclass(frozen=True)
class RiskContext:
    """Queue figures for a batch of tickets, read once (a handful of queries for any batch size)."""

    profiles: dict[int, AgentProfile]
    assignee_open: dict[int, int]
    team_open: dict[int, int]
    team_size: dict[int, int]
    reopened: dict[int, int]
    typical_minutes: dict[str, dict[str, float]]
    model: dict[str, Any] | None

    def typical(self, target: str, priority: str, category_id: int | None) -> float | None:
        table = self.typical_minutes.get(target) or self.typical_minutes.get("first_response" if target else "", {})
        if category_id is not None and f"{priority}|{category_id}" in table:
            return table[f"{priority}|{category_id}"]
        return table.get(priority)


def risk_context(*, tickets: list[Ticket]) -> RiskContext:
    assignees = {ticket.assignee_id for ticket in tickets if ticket.assignee_id}
    teams = {ticket.team_id for ticket in tickets if ticket.team_id}
    open_tickets = Ticket.objects.open()
    assignee_open = open_tickets.filter(assignee_id__in=assignees).values_list("assignee_id").annotate(Count("id"))
    team_open = open_tickets.filter(team_id__in=teams).values_list("team_id").annotate(Count("id"))
    team_size = Team.members.through.objects.filter(team_id__in=teams).values_list("team_id").annotate(Count("id"))
    reopened = (
        TicketEvent.objects.filter(ticket_id__in=[ticket.pk for ticket in tickets], kind=TicketEvent.Kind.REOPENED)
        .values_list("ticket_id")
        .annotate(Count("id"))
    )
    return RiskContext(
        profiles={profile.user_id: profile for profile in AgentProfile.objects.filter(user_id__in=assignees)},
        assignee_open=dict(assignee_open) if assignees else {},
        team_open=dict(team_open) if teams else {},
        team_size=dict(team_size) if teams else {},
        reopened=dict(reopened),
        typical_minutes=typical_minutes(),
        model=risk_model_parameters(),
    )


def risk_model_parameters() -> dict[str, Any] | None:
    """The newest learned model's parameters, or None (then the heuristic answers)."""
    model = SLARiskModel.objects.only("parameters", "samples", "auc").first()
    if model is None:
        return None
    return {**model.parameters, "samples": model.samples, "auc": model.auc}


def typical_minutes() -> dict[str, dict[str, float]]:
    """Median business minutes to first response and to resolution, by priority and by priority|category, over
    the last six months' finished tickets. Cached for an hour (per workspace: the cache keys carry the schema)."""
    cached = cache.get("helpdesk:sla:typical-minutes")
    if cached is not None:
        return cached
    since = timezone.now() - timedelta(days=TYPICAL_HISTORY_DAYS)
    finished = Ticket.objects.filter(status__in=Ticket.DONE_STATUSES, created__gte=since)
    table: dict[str, dict[str, float]] = {"first_response": {}, "resolution": {}}
    aggregates = {
        "first_response": Percentile("sla_first_response_minutes", 0.5),
        "resolution": Percentile("sla_resolution_minutes", 0.5),
        "count": Count("id"),
    }
    for row in finished.values("priority").annotate(**aggregates):
        _typical_add(table, row, row["priority"])
    for row in finished.filter(category__isnull=False).values("priority", "category_id").annotate(**aggregates):
        if row["count"] >= TYPICAL_MIN_SAMPLES:
            _typical_add(table, row, f"{row['priority']}|{row['category_id']}")
    table["next_response"] = table["first_response"]
    cache.set("helpdesk:sla:typical-minutes", table, TYPICAL_CACHE_SECONDS)
    return table


def _typical_add(table: dict[str, dict[str, float]], row: dict[str, Any], key: str) -> None:
    for target in ("first_response", "resolution"):
        if row[target] is not None:
            table[target][key] = round(row[target], 1)


# --- The history the risk model learns from -----------------------------------------------------


class _Timeline:
    """How many tickets were open at a moment, from sorted open and close times (bisect, no query per moment)."""

    def __init__(self) -> None:
        self.opened: list[datetime] = []
        self.closed: list[datetime] = []

    def add(self, opened: datetime, closed: datetime | None) -> None:
        self.opened.append(opened)
        if closed is not None:
            self.closed.append(closed)

    def freeze(self) -> None:
        self.opened.sort()
        self.closed.sort()

    def open_at(self, moment: datetime) -> int:
        return bisect_right(self.opened, moment) - bisect_right(self.closed, moment)


def _calendars() -> tuple[dict[int, CompiledCalendar], dict[int, CompiledCalendar], CompiledCalendar]:
    """Compiled calendars by policy id and by team id, and the default one (without creating it)."""
    default_row = BusinessCalendar.objects.filter(is_default=True).first()
    default = calendar_compiled(default_row) if default_row else default_calendar_compiled()
    by_policy = {
        policy.pk: calendar_compiled(policy.calendar)
        for policy in SLAPolicy.objects.filter(calendar__isnull=False).select_related("calendar")
    }
    by_team = {
        team.pk: calendar_compiled(team.calendar)
        for team in Team.objects.filter(calendar__isnull=False).select_related("calendar")
    }
    return by_policy, by_team, default


def risk_training_rows(*, snapshots: int = TRAINING_SNAPSHOTS) -> list[TrainingRow]:
    """Every finished ticket with an SLA outcome, seen at `snapshots` moments while its clocks ran.

    The figures at each moment are rebuilt from the history: tickets open per assignee and team then (from
    created / solved times), whether it was assigned yet (its first assignment event), how often it had been
    reopened. Moments are picked per ticket id, so the same history always gives the same rows.
    """
    fields = (
        "pk", "created", "solved_at", "first_response_due", "first_responded_at", "resolution_due", "priority",
        "category_id", "assignee_id", "team_id", "sentiment", "customer__tier", "sla_breached", "sla_policy_id",
        "sla_paused_minutes", "sla_first_response_minutes", "sla_resolution_minutes",
    )  # fmt: skip
    finished = list(
        Ticket.objects.filter(
            status__in=Ticket.DONE_STATUSES, solved_at__isnull=False, resolution_due__isnull=False, merged_into=None
        ).values(*fields)
    )
    if not finished:
        return []
    by_policy, by_team, default = _calendars()
    history = _history(since=min(row["created"] for row in finished) - timedelta(days=60))
    first_assigned = dict(
        TicketEvent.objects.filter(kind=TicketEvent.Kind.ASSIGNED, data__changes__has_key="assignee")
        .values_list("ticket_id")
        .annotate(Min("created"))
    )
    reopens: dict[int, list[datetime]] = defaultdict(list)
    for ticket_id, created in TicketEvent.objects.filter(kind=TicketEvent.Kind.REOPENED).values_list(
        "ticket_id", "created"
    ):
        reopens[ticket_id].append(created)
    capacity = dict(AgentProfile.objects.values_list("user_id", "max_open_tickets"))
    sizes = dict(Team.members.through.objects.values_list("team_id").annotate(Count("id")))
    rows = []
    for ticket in finished:
        calendar = by_policy.get(ticket["sla_policy_id"]) or by_team.get(ticket["team_id"]) or default
        context = {
            "history": history,
            "assigned_at": first_assigned.get(ticket["pk"], ticket["created"]) if ticket["assignee_id"] else None,
            "reopens": reopens.get(ticket["pk"], []),
            "capacity": capacity.get(ticket["assignee_id"], 25),
            "team_size": sizes.get(ticket["team_id"], 0),
        }
        rows.extend(_ticket_rows(ticket, calendar, context, snapshots))
    return rows


def _history(*, since: datetime) -> dict[str, dict[int, _Timeline]]:
    timelines: dict[str, dict[int, _Timeline]] = {"assignee": defaultdict(_Timeline), "team": defaultdict(_Timeline)}
    tickets = Ticket.objects.filter(Q(solved_at__isnull=True) | Q(solved_at__gte=since)).values_list(
        "assignee_id", "team_id", "created", "solved_at"
    )
    for assignee_id, team_id, created, solved_at in tickets.iterator(chunk_size=5000):
        if assignee_id:
            timelines["assignee"][assignee_id].add(created, solved_at)
        if team_id:
            timelines["team"][team_id].add(created, solved_at)
    for kind in timelines.values():
        for timeline in kind.values():
            timeline.freeze()
    return timelines


def _ticket_rows(ticket: dict, calendar: CompiledCalendar, context: dict, snapshots: int) -> list[TrainingRow]:
    created, solved = ticket["created"], ticket["solved_at"]
    first_due, responded = ticket["first_response_due"], ticket["first_responded_at"]
    first_running_past_due = first_due is not None and (responded is None or responded > first_due)
    end = min(solved, ticket["resolution_due"], *([first_due] if first_running_past_due else []))
    if end <= created:
        return []
    took = {
        "first_response": ticket["sla_first_response_minutes"]
        if ticket["sla_first_response_minutes"] is not None
        else (calendar.between(created, responded) if responded else None),
        "resolution": ticket["sla_resolution_minutes"]
        if ticket["sla_resolution_minutes"] is not None
        else max(0.0, calendar.between(created, solved) - ticket["sla_paused_minutes"]),
    }
    chance = random.Random(ticket["pk"])
    rows = []
    for _ in range(snapshots):
        moment = created + (end - created) * chance.random()
        rows.append(
            TrainingRow(
                ticket_id=ticket["pk"],
                created=created,
                inputs=_inputs_at(ticket, moment, calendar, context),
                breached=ticket["sla_breached"],
                took=took,
            )
        )
    return rows


def _inputs_at(ticket: dict, moment: datetime, calendar: CompiledCalendar, context: dict) -> RiskInputs:
    created = ticket["created"]
    first_due, responded = ticket["first_response_due"], ticket["first_responded_at"]
    target, due = "resolution", ticket["resolution_due"]
    if first_due is not None and (responded is None or responded > moment) and first_due < due:
        target, due = "first_response", first_due
    assigned_at = context["assigned_at"]
    assigned = assigned_at is not None and assigned_at <= moment
    history = context["history"]
    return RiskInputs(
        target=target,
        minutes_left=calendar.between(moment, due),
        target_minutes=calendar.between(created, due),
        elapsed_minutes=calendar.between(created, moment),
        priority=ticket["priority"],
        sentiment=ticket["sentiment"],
        tier=ticket["customer__tier"] or "",
        reopened=sum(1 for reopened_at in context["reopens"] if reopened_at <= moment),
        assigned=assigned,
        assignee_open=history["assignee"][ticket["assignee_id"]].open_at(moment) if assigned else 0,
        assignee_capacity=context["capacity"],
        team_open=history["team"][ticket["team_id"]].open_at(moment) if ticket["team_id"] else 0,
        team_size=context["team_size"],
    )
