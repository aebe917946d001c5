"""Demo ticket histories, planned in memory: arrivals, requesters, routing, SLA outcomes, threads, events, CSAT.

Tickets arrive mostly in business hours on working days, a little more each month, plus three incident bursts
(an outage brings dozens of performance and sign-in tickets within hours). Whether a ticket misses its SLA is
drawn from a logistic model of its features (priority, category, channel, the day's load, arrival outside
hours, the assignee, the customer's tier), calibrated so that about SLA_MISS_RATE of tickets miss: the
history then has a learnable signal for the SLA risk model. Every timestamp is derived from the policy
targets with the business calendar, so due times, first responses and resolutions agree with each other.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from ..business_hours import CompiledCalendar
from ..models import SatisfactionSurvey, SLAPolicy, Ticket, TicketEvent, TicketMessage
from . import text
from .compose import Composer
from .setup import DemoSetup

HISTORY_DAYS = 182
AUTO_CLOSE_AFTER = timedelta(days=4)
SLA_MISS_RATE = 0.11
INCIDENT_SHARE = 0.036
INCIDENTS = 3
WAIT_SHARE = 0.25
UNASSIGNED_WAITING_SHARE = 0.55
CSAT_ANSWER_RATE = 0.30
MESSAGE_COUNTS = {1: 15, 2: 30, 3: 25, 4: 15, 5: 10, 6: 5}
CHANNELS = {"email": 42, "help_center": 22, "chat": 14, "phone": 10, "web": 9, "api": 3}
# Chat and phone are staffed in business hours only.
OFF_HOURS_CHANNELS = {"email": 60, "help_center": 35, "api": 5}
BREACH_KINDS = {"first": 35, "resolution": 45, "both": 20}
# Logistic-model weights of a ticket's features on missing its SLA.
PRIORITY_RISK = {"urgent": 0.9, "high": 0.4, "normal": 0.0, "low": -0.3}
CATEGORY_RISK = {
    "billing": 0.0,
    "login": 0.2,
    "bug": 0.45,
    "feature_request": -0.6,
    "shipping": 0.2,
    "account_changes": 0.0,
    "performance": 0.5,
    "how_to": -0.5,
}
CHANNEL_RISK = {"email": 0.3, "help_center": 0.1, "chat": -0.4, "phone": -0.3, "web": 0.0, "api": 0.2}
RATINGS_MET = {5: 55, 4: 28, 3: 10, 2: 4, 1: 3}
RATINGS_MISSED = {5: 18, 4: 24, 3: 26, 2: 18, 1: 14}


@dataclass(frozen=True)
class Requester:
    contact_id: int
    customer_id: int
    tier: str
    first_name: str
    created: datetime


@dataclass(frozen=True)
class Report:
    """A ticket whose arrival, requester and words are given rather than drawn (Planner.plan_reports)."""

    created: datetime
    requester: Requester
    category: str
    subject: str
    description: str
    upset: bool = False
    tags: tuple[str, ...] = ()


@dataclass
class Plan:
    """One ticket with its thread, history and survey, before any of it is saved."""

    ticket: Ticket
    messages: list[TicketMessage] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    survey: SatisfactionSurvey | None = None


@dataclass
class _Draft:
    created: datetime
    incident: bool
    category: str
    requester: Requester
    priority: str
    channel: str
    team: str
    assignee: object
    policy: SLAPolicy
    subject: str
    description: str
    upset: bool
    score: float = 0.0


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


class Planner:
    def __init__(
        self, *, rng: random.Random, setup: DemoSetup, requesters: Sequence[Requester], now: datetime, days: int
    ) -> None:
        self.rng, self.setup, self.now, self.days = rng, setup, now, days
        self.clock = setup.clock
        self.composer = Composer(rng)
        self.requesters = list(requesters)
        self.requester_times = [requester.created for requester in self.requesters]
        # A few customers write a lot, most rarely: heavy-tailed weights, cumulated for bisecting.
        self.requester_weights = list(itertools.accumulate(rng.paretovariate(1.3) for _ in self.requesters))
        people = {person.pk: person for members in setup.members.values() for person in members}
        self.agent_weight = {pk: rng.uniform(0.6, 1.4) for pk in people}
        self.agent_risk = {pk: rng.gauss(0.0, 0.3) for pk in people}

    def plan(self, count: int) -> list[Plan]:
        arrivals = self._arrivals(count)
        per_day = Counter(_local_date(self.clock, moment) for moment, _ in arrivals)
        working = [number for day, number in per_day.items() if _working(self.clock, day)] or [1]
        typical_day = sorted(working)[len(working) // 2]
        drafts = [self._draft(moment, incident) for moment, incident in arrivals]
        for draft in drafts:
            load = per_day[_local_date(self.clock, draft.created)] / typical_day
            draft.score = self._risk(draft, load)
        offset = _calibrate([draft.score for draft in drafts], SLA_MISS_RATE)
        return [self._history(draft, _sigmoid(draft.score + offset)) for draft in drafts]

    def plan_reports(self, reports: Sequence[Report]) -> list[Plan]:
        """Histories of tickets whose arrival, requester and words are given (a planted problem), routed, answered
        and timed like the others; SLA misses at the usual rate among them."""
        drafts = [self._draft(report.created, False, report) for report in reports]
        for draft in drafts:
            draft.score = self._risk(draft, 1.0)
        offset = _calibrate([draft.score for draft in drafts], SLA_MISS_RATE)
        plans = [self._history(draft, _sigmoid(draft.score + offset)) for draft in drafts]
        for plan, report in zip(plans, reports, strict=True):
            plan.ticket.tags = list(dict.fromkeys([*plan.ticket.tags, *report.tags]))
        return plans

    # --- Arrivals ---------------------------------------------------------------------------------------

    def _arrivals(self, count: int) -> list[tuple[datetime, bool]]:
        rng, clock = self.rng, self.clock
        today = _local_date(clock, self.now)
        days = [today - timedelta(days=offset) for offset in range(self.days, -1, -1)]
        weights = [self._day_weight(day, index / len(days)) for index, day in enumerate(days)]
        bursts = max(0, min(count // 20, round(count * INCIDENT_SHARE)))
        moments = []
        while len(moments) < count - bursts:
            moment = self._moment_on(rng.choices(days, weights)[0])
            if moment < self.now:
                moments.append((moment, False))
        moments += self._incident_tickets(days[:-7] or days, bursts)
        return sorted(moments, key=lambda item: item[0])

    def _day_weight(self, day: date, age: float) -> float:
        trend = 0.8 + 0.4 * age  # the business grows: a fifth more tickets now than six months ago
        if _working(self.clock, day):
            return trend * (1.15 if day.weekday() == 0 else 1.0)  # Mondays bring the weekend's backlog
        return trend * (0.3 if day.weekday() < 5 else 0.18)

    def _moment_on(self, day: date) -> datetime:
        rng, clock = self.rng, self.clock
        intervals = [(opens, closes or time(23, 59, 59)) for opens, closes in clock.weekly[day.weekday()]]
        start = datetime.combine(day, time(0), tzinfo=clock.zone)
        if _working(clock, day) and intervals and rng.random() < 0.82:
            opens, closes = rng.choices(intervals, [_hours(pair) for pair in intervals])[0]
            length = _hours((opens, closes))
            hour = opens.hour + opens.minute / 60 + rng.triangular(0, length, rng.choice((0.25, 0.6)) * length)
        else:
            hour = rng.uniform(0, 24) if day.weekday() < 5 else rng.uniform(7, 23)
        return (start + timedelta(hours=hour)).astimezone(UTC).replace(microsecond=0)

    def _incident_tickets(self, days: list[date], count: int) -> list[tuple[datetime, bool]]:
        rng = self.rng
        working = [day for day in days if _working(self.clock, day)] or days
        starts = [
            datetime.combine(day, time(rng.randrange(9, 15), rng.randrange(60)), tzinfo=self.clock.zone)
            for day in rng.sample(working, k=min(INCIDENTS, len(working)))
        ]
        moments = []
        for index in range(count):
            start = starts[index % len(starts)]
            moment = (start + timedelta(minutes=min(240, rng.expovariate(1 / 50)))).astimezone(UTC)
            moments.append((moment.replace(microsecond=0), True))
        return [(moment, incident) for moment, incident in moments if moment < self.now]

    # --- Who, what, where -------------------------------------------------------------------------------

    def _draft(self, created: datetime, incident: bool, report: Report | None = None) -> _Draft:
        rng = self.rng
        if report is not None:
            category = report.category
        elif incident:
            category = _pick(rng, {"performance": 6, "login": 2, "bug": 2})
        else:
            category = _pick(rng, text.CATEGORY_WEIGHTS)
        spec = text.CATEGORIES[category]
        requester = report.requester if report is not None else self._requester(created)
        priority = _pick(rng, {"normal": 3, "high": 5, "urgent": 2} if incident else spec["priorities"])
        if requester.tier == "enterprise" and priority == "normal" and rng.random() < 0.25:
            priority = "high"
        channel = _pick(rng, CHANNELS if self.clock.is_open(created) else OFF_HOURS_CHANNELS)
        members = self.setup.members[spec["team"]]
        assignee = rng.choices(members, [self.agent_weight[person.pk] for person in members])[0] if members else None
        policy = _policy_for(self.setup.policies, priority=priority, tier=requester.tier, channel=channel)
        if report is not None:
            subject, description, upset = report.subject, report.description, report.upset
        else:
            subject, description, upset = self.composer.ticket(category, requester.first_name)
        return _Draft(
            created, incident, category, requester, priority, channel, spec["team"], assignee, policy,
            subject, description, upset,
        )  # fmt: skip

    def _requester(self, created: datetime) -> Requester:
        """A contact who existed when the ticket came in (the earliest one if nobody did yet)."""
        known = max(1, bisect.bisect_right(self.requester_times, created))
        point = self.rng.random() * self.requester_weights[known - 1]
        return self.requesters[min(known - 1, bisect.bisect_left(self.requester_weights, point))]

    def _risk(self, draft: _Draft, load: float) -> float:
        score = PRIORITY_RISK[draft.priority] + CATEGORY_RISK[draft.category] + CHANNEL_RISK[draft.channel]
        score += 1.3 * max(-0.5, min(2.5, load - 1.0))
        score += 0.35 * (not self.clock.is_open(draft.created))
        score -= 0.3 * (draft.requester.tier == "enterprise")
        score += 0.25 * draft.upset  # upset customers write back sooner and come with harder problems
        return score + (self.agent_risk.get(draft.assignee.pk, 0.0) if draft.assignee else 0.0)

    # --- History ----------------------------------------------------------------------------------------

    def _history(self, draft: _Draft, miss_probability: float) -> Plan:
        rng, clock, now = self.rng, self.clock, self.now
        policy = draft.policy
        kind = _pick(rng, BREACH_KINDS) if rng.random() < miss_probability else ""
        first_share = 1 + rng.expovariate(1.4) if kind in ("first", "both") else min(0.97, rng.betavariate(1.2, 3.5))
        if not kind and draft.channel in ("chat", "phone"):
            first_share *= 0.3  # somebody is on the line
        resolution_share = (
            1 + rng.expovariate(1.6) if kind in ("resolution", "both") else min(0.97, rng.betavariate(2, 2.2))
        )
        responded = clock.add(draft.created, max(1.0, policy.first_response_minutes * first_share))
        pause = self._pause(responded) if rng.random() < WAIT_SHARE else None
        paused_minutes = clock.between(pause[1], pause[2]) if pause else 0.0
        resolved = clock.add(draft.created, policy.resolution_minutes * resolution_share + paused_minutes)
        resolved = max(resolved, clock.add(responded, rng.uniform(10, 90)), pause[2] if pause else resolved)
        plan = Plan(ticket=self._ticket(draft))
        self._assignment(plan, draft, responded)
        if responded >= now:
            self._waiting(plan, draft)
        else:
            plan.ticket.first_responded_at = responded
            self._thread(plan, draft, responded, resolved, pause)
            if resolved < now:
                self._solved(plan, draft, plan.messages[-1].created)  # the resolving reply
        held = paused_minutes if pause and pause[2] <= min(now, resolved) else 0.0
        self._sla_fields(plan, draft, held)
        self._sla_outcome(plan, max(first_share, resolution_share))
        events = sum(event.kind != TicketEvent.Kind.CREATED for event in plan.events)
        plan.ticket.version = 1 + len(plan.messages) + events
        return plan

    def _ticket(self, draft: _Draft) -> Ticket:
        rng = self.rng
        spec = text.CATEGORIES[draft.category]
        tags = rng.sample(spec["tags"], k=rng.choices((0, 1, 2), (40, 45, 15))[0])
        if draft.requester.tier == "enterprise" and rng.random() < 0.4:
            tags.append("vip")
        if draft.incident:
            tags.append("outage")
        return Ticket(
            subject=draft.subject[:200],
            original_description=draft.description,
            status=Ticket.Status.NEW,
            priority=draft.priority,
            type=_pick(rng, spec["types"]),
            category=self.setup.categories[draft.category],
            channel=draft.channel,
            requester_id=draft.requester.contact_id,
            customer_id=draft.requester.customer_id,
            team=self.setup.teams[draft.team],
            tags=tags,
            sentiment="negative" if draft.upset else ("positive" if rng.random() < 0.08 else "neutral"),
            language="en",
            sla_policy=draft.policy,
            created=draft.created,
            last_customer_message_at=draft.created,
        )

    def _pause(self, responded: datetime) -> tuple[str, datetime, datetime]:
        """A wait on the customer (pending) or a third party (on hold), days long."""
        rng = self.rng
        start = self.clock.add(responded, rng.uniform(10, 240))
        if rng.random() < 0.75:  # the customer owes an answer: hours to days
            return Ticket.Status.PENDING, start, start + timedelta(hours=rng.uniform(4, 10 * 24))
        # Waiting on engineering or a carrier: up to a month.
        return Ticket.Status.ON_HOLD, start, start + timedelta(hours=rng.uniform(2 * 24, 30 * 24))

    def _assignment(self, plan: Plan, draft: _Draft, responded: datetime) -> None:
        """Assigned a little after arrival (or left unassigned while nobody answered yet)."""
        rng, ticket = self.rng, plan.ticket
        plan.events.append(_event(ticket, TicketEvent.Kind.CREATED, draft.created, channel=draft.channel))
        if draft.assignee is None:
            return
        latest = min(responded, self.now)
        moment = draft.created + (latest - draft.created) * rng.uniform(0.05, 0.6)
        if responded >= self.now and rng.random() < UNASSIGNED_WAITING_SHARE:
            return
        ticket.assignee = draft.assignee
        ticket.status = Ticket.Status.OPEN
        changes = {"assignee": [None, str(draft.assignee)]}
        plan.events.append(_event(ticket, TicketEvent.Kind.ASSIGNED, moment, changes=changes, reason="auto-assign"))

    def _waiting(self, plan: Plan, draft: _Draft) -> None:
        """Nobody answered yet: the requester adds something meanwhile."""
        ticket = plan.ticket
        moment = draft.created + (self.now - draft.created) * self.rng.uniform(0.3, 0.95)
        body = self.composer.customer_reply(first=draft.requester.first_name, nudge=True)
        plan.messages.append(self._from_customer(draft, body, moment))
        ticket.last_customer_message_at = moment

    def _thread(self, plan: Plan, draft: _Draft, responded: datetime, resolved: datetime, pause: tuple | None) -> None:
        """The first reply, optionally a wait, middle messages, and the resolving reply once solved."""
        rng, clock, ticket, now = self.rng, self.clock, plan.ticket, self.now
        solved = resolved < now
        end = resolved if solved else now
        entries: list[tuple[datetime, str]] = [(responded, "first")]
        if pause is not None and pause[1] < end:
            entries.append((pause[1], "pending"))
            self._status_event(plan, pause[1], "open", pause[0])
            if pause[2] < end:
                entries.append((pause[2], "customer"))
                self._status_event(plan, pause[2], pause[0], "open")
        wanted = max(_pick(rng, MESSAGE_COUNTS), 2 if solved else 1)
        if solved:
            entries.append((resolved, "resolution"))
        business = clock.between(responded, end)
        while len(entries) < wanted:
            who = _pick(rng, {"customer": 45, "follow_up": 30, "note": 25})
            if who == "customer":
                moment = responded + (end - responded) * rng.uniform(0.02, 0.98)
            else:
                moment = clock.add(responded, business * rng.uniform(0.02, 0.98))
            if responded < moment < end:
                entries.append((moment, who))
        entries.sort()
        previous = draft.created
        for moment, who in entries:
            moment = max(moment, previous + timedelta(seconds=1))  # strictly increasing, as the thread reads
            plan.messages.append(self._message(draft, who, moment))
            previous = moment
        replies = [message.created for message in plan.messages if message.author_id and message.kind == "reply"]
        customer = [message.created for message in plan.messages if message.author_contact_id]
        ticket.last_agent_message_at = max(replies)
        ticket.last_customer_message_at = max([draft.created, *customer])
        if pause is not None and pause[1] <= now < pause[2] and not solved:
            ticket.status, ticket.sla_paused_at = pause[0], pause[1]
        elif not solved:
            ticket.status = Ticket.Status.OPEN

    def _status_event(self, plan: Plan, moment: datetime, old: str, new: str) -> None:
        changes = {"status": [old, new]}
        plan.events.append(_event(plan.ticket, TicketEvent.Kind.STATUS, moment, changes=changes))

    def _message(self, draft: _Draft, who: str, moment: datetime) -> TicketMessage:
        first = draft.requester.first_name
        agent = draft.assignee
        if who == "customer":
            return self._from_customer(draft, self.composer.customer_reply(first=first), moment)
        if who == "note":
            colleagues = [person for person in self.setup.members[draft.team] if person != agent] or [agent]
            body = self.composer.note(draft.category, colleague=self.rng.choice(colleagues).get_short_name())
            return TicketMessage(kind=TicketMessage.Kind.NOTE, body=body, author=agent, created=moment)
        body = self.composer.agent_reply(who, draft.category, first=first, agent=agent.get_short_name())
        return TicketMessage(kind=TicketMessage.Kind.REPLY, body=body, author=agent, created=moment)

    def _from_customer(self, draft: _Draft, body: str, moment: datetime) -> TicketMessage:
        channel = draft.channel if draft.channel in ("email", "help_center", "chat") else "email"
        return TicketMessage(
            kind=TicketMessage.Kind.REPLY,
            body=body,
            author_contact_id=draft.requester.contact_id,
            channel=channel,
            created=moment,
        )

    def _solved(self, plan: Plan, draft: _Draft, resolved: datetime) -> None:
        ticket, rng = plan.ticket, self.rng
        ticket.status, ticket.solved_at = Ticket.Status.SOLVED, resolved
        changes = {"status": ["open", "solved"]}
        plan.events.append(_event(ticket, TicketEvent.Kind.STATUS, resolved, draft.assignee, changes=changes))
        closing = resolved + AUTO_CLOSE_AFTER
        if closing <= self.now:
            ticket.status, ticket.closed_at = Ticket.Status.CLOSED, closing
            changes = {"status": ["solved", "closed"]}
            plan.events.append(_event(ticket, TicketEvent.Kind.STATUS, closing, changes=changes, reason="auto-close"))
        plan.survey = SatisfactionSurvey(sent_at=resolved)
        if rng.random() < CSAT_ANSWER_RATE:
            answered = min(self.now, resolved + timedelta(hours=rng.expovariate(1 / 10)))
            plan.survey.answered_at = answered  # the rating follows once the SLA outcome is known

    def _sla_fields(self, plan: Plan, draft: _Draft, held: float) -> None:
        """Due times and bookkeeping as helpdesk.services.sla keeps them (`held`: business minutes paused)."""
        ticket, clock, policy = plan.ticket, self.clock, draft.policy
        ticket.sla_paused_minutes = held
        ticket.first_response_due = clock.add(ticket.created, policy.first_response_minutes)
        ticket.resolution_due = clock.add(ticket.created, policy.resolution_minutes + held)
        if ticket.first_responded_at:
            ticket.sla_first_response_minutes = round(clock.between(ticket.created, ticket.first_responded_at), 2)
        if ticket.solved_at:
            ticket.sla_paused_at = ticket.solved_at  # stopped clocks: a reopen resumes from here
            worked = clock.between(ticket.created, ticket.solved_at) - held
            ticket.sla_resolution_minutes = round(max(0.0, worked), 2)
            return
        awaiting = (
            _oldest_unanswered(plan.messages, ticket.last_agent_message_at) if ticket.first_responded_at else None
        )
        if awaiting and policy.next_response_minutes:
            ticket.next_response_due = clock.add(awaiting, policy.next_response_minutes)
        targets = [(ticket.resolution_due, policy.resolution_minutes)]
        if ticket.first_responded_at is None:
            targets.append((ticket.first_response_due, policy.first_response_minutes))
        if ticket.next_response_due:
            targets.append((ticket.next_response_due, policy.next_response_minutes))
        due, minutes = min(targets)
        ticket.sla_due_at = due
        ticket.sla_warn_at = clock.add(due, -minutes * (100 - policy.warn_at_percent) / 100)

    def _sla_outcome(self, plan: Plan, worst_share: float) -> None:
        """Breach and warning flags from the actual times, an event per missed target, and the CSAT rating."""
        ticket, rng = plan.ticket, self.rng
        clock_stopped = ticket.solved_at or ticket.sla_paused_at or self.now
        missed = []
        if (ticket.first_responded_at or clock_stopped) > ticket.first_response_due:
            missed.append(("first_response", ticket.first_response_due, ticket.first_responded_at))
        if ticket.next_response_due and clock_stopped > ticket.next_response_due:
            missed.append(("next_response", ticket.next_response_due, None))
        if clock_stopped > ticket.resolution_due:
            missed.append(("resolution", ticket.resolution_due, ticket.solved_at))
        ticket.sla_breached = bool(missed)
        warned_by = ticket.sla_warn_at and ticket.sla_warn_at <= clock_stopped
        ticket.sla_warned = bool(ticket.sla_breached or warned_by or (ticket.solved_at and worst_share > 0.8))
        for target, due, met in missed:
            late = {"met": met.isoformat(), "late": True} if met else {}
            plan.events.append(
                _event(ticket, TicketEvent.Kind.SLA_BREACHED, due, target=target, due=due.isoformat(), **late)
            )
        survey = plan.survey
        if survey is not None and survey.answered_at is not None:
            survey.rating = int(_pick(rng, RATINGS_MISSED if ticket.sla_breached else RATINGS_MET))
            survey.comment = self.composer.csat_comment(survey.rating) if rng.random() < 0.5 else ""
            plan.events.append(_event(ticket, TicketEvent.Kind.CSAT, survey.answered_at, rating=survey.rating))


def _oldest_unanswered(messages: Sequence[TicketMessage], last_agent_reply: datetime | None) -> datetime | None:
    """The customer's oldest message after the agents' last reply (the next-response clock's start)."""
    waiting = [
        message.created
        for message in messages
        if message.author_contact_id and (last_agent_reply is None or message.created > last_agent_reply)
    ]
    return min(waiting, default=None)


def _event(ticket: Ticket, kind: str, moment: datetime, actor=None, **data) -> TicketEvent:
    return TicketEvent(ticket=ticket, kind=kind, actor=actor, data=data, created=moment)


def _local_date(clock: CompiledCalendar, moment: datetime) -> date:
    return moment.astimezone(clock.zone).date()


def _working(clock: CompiledCalendar, day: date) -> bool:
    return clock.always_open or bool(clock.day_intervals(day))


def _hours(pair: tuple[time, time]) -> float:
    opens, closes = pair
    return (closes.hour - opens.hour) + (closes.minute - opens.minute) / 60


def _policy_for(policies: Sequence[SLAPolicy], *, priority: str, tier: str, channel: str) -> SLAPolicy:
    """The first active policy whose non-empty conditions all match (as the SLA engine picks)."""
    for policy in policies:
        if not policy.active:
            continue
        wanted = {"priority": priority, "customer_tier": tier, "channel": channel}
        if all(not getattr(policy, name) or getattr(policy, name) == value for name, value in wanted.items()):
            return policy
    return policies[-1]


def _calibrate(scores: Sequence[float], rate: float) -> float:
    """The offset that makes the mean predicted miss probability equal `rate` (bisection; it is monotonic)."""
    if not scores:
        return 0.0
    low, high = -20.0, 20.0
    for _ in range(60):
        middle = (low + high) / 2
        mean = sum(_sigmoid(score + middle) for score in scores) / len(scores)
        low, high = (middle, high) if mean < rate else (low, middle)
    return (low + high) / 2
