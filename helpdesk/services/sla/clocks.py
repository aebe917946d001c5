"""SLA clocks of one ticket: due times, pauses, warning point and outcomes, kept up to date on every write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Min
from django.utils import timezone

from ...business_hours import CompiledCalendar
from ...models import SLAPolicy, Ticket, TicketEvent, TicketMessage
from ...selectors.sla import sla_policy_for_ticket
from .calendars import sla_calendar_for

RUNNING_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)
TARGET_LABELS = {"first_response": "first response", "next_response": "next response", "resolution": "resolution"}
SLA_FIELDS = (
    "sla_policy",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "sla_paused_at",
    "sla_paused_minutes",
    "sla_due_at",
    "sla_warn_at",
    "sla_warned",
    "sla_breached",
    "sla_first_response_minutes",
    "sla_resolution_minutes",
)


@dataclass(frozen=True)
class Target:
    """One running clock of a ticket."""

    name: str  # first_response | next_response | resolution
    due: datetime
    minutes: float  # the policy's target

    @property
    def label(self) -> str:
        return TARGET_LABELS[self.name]


def ticket_sla_refresh(ticket: Ticket, *, now: datetime | None = None, save: bool = True) -> None:
    """Brings the ticket's SLA fields up to date after a change (policy, clocks, pause, outcomes) and saves them
    (`save=False`: a ticket about to be inserted, whose clocks go in with it)."""
    now = now or timezone.now()
    before = {field: getattr(ticket, Ticket._meta.get_field(field).attname) for field in SLA_FIELDS}
    policy = None if ticket.status in Ticket.DONE_STATUSES else sla_policy_for_ticket(ticket)
    if ticket.status in Ticket.DONE_STATUSES:
        _stop(ticket, now)
    elif policy is None:
        _clear(ticket)
    else:
        _run(ticket, policy, now)
    _record_late_outcomes(ticket, now)
    changed = [field for field, old in before.items() if getattr(ticket, Ticket._meta.get_field(field).attname) != old]
    if changed and save:
        ticket.save(update_fields=changed)


def _clear(ticket: Ticket) -> None:
    """No policy covers the ticket (any more): no clocks."""
    ticket.sla_policy = None
    ticket.first_response_due = ticket.next_response_due = ticket.resolution_due = None
    ticket.sla_due_at = ticket.sla_warn_at = ticket.sla_paused_at = None


def _run(ticket: Ticket, policy: SLAPolicy, now: datetime) -> None:
    calendar = sla_calendar_for(policy, ticket)
    policy_changed = ticket.sla_policy_id != policy.pk
    ticket.sla_policy = policy
    paused = ticket.status in Ticket.PAUSED_STATUSES
    if paused and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif not paused and ticket.sla_paused_at is not None:
        _resume(ticket, calendar, now, policy_changed=policy_changed)
    ticket.sla_resolution_minutes = None
    held = ticket.sla_paused_minutes
    if ticket.first_responded_at is None:
        ticket.first_response_due = calendar.add(ticket.created, policy.first_response_minutes + held)
    elif ticket.first_response_due is None or policy_changed:
        # Answered: the due time is history now, and later pauses do not move it.
        ticket.first_response_due = calendar.add(ticket.created, policy.first_response_minutes)
    ticket.resolution_due = calendar.add(ticket.created, policy.resolution_minutes + held)
    _set_next_response_due(ticket, policy, calendar, policy_changed=policy_changed)
    _set_warning_point(ticket, policy, calendar, now)


def _resume(ticket: Ticket, calendar: CompiledCalendar, now: datetime, *, policy_changed: bool) -> None:
    paused_at = ticket.sla_paused_at
    ticket.sla_paused_minutes += max(0.0, calendar.between(paused_at, now))
    if ticket.next_response_due is not None and not policy_changed:
        since = _oldest_unanswered(ticket)
        ticket.next_response_due = calendar.add(ticket.next_response_due, calendar.between(max(paused_at, since), now))
    ticket.sla_paused_at = None


def _awaiting_reply(ticket: Ticket) -> bool:
    """The customer wrote after the agents' first reply and nobody answered since."""
    if ticket.first_responded_at is None or ticket.last_customer_message_at is None:
        return False
    return ticket.last_agent_message_at is None or ticket.last_agent_message_at < ticket.last_customer_message_at


def _oldest_unanswered(ticket: Ticket) -> datetime:
    """When the customer's oldest message after the last agent reply was written (the next-response clock's start)."""
    messages = TicketMessage.objects.filter(ticket=ticket, author_contact__isnull=False, author__isnull=True)
    if ticket.last_agent_message_at is not None:
        messages = messages.filter(created__gt=ticket.last_agent_message_at)
    oldest = messages.aggregate(oldest=Min("created"))["oldest"]
    return oldest or ticket.last_customer_message_at or ticket.created


def _set_next_response_due(ticket: Ticket, policy: SLAPolicy, calendar: CompiledCalendar, *, policy_changed: bool):
    if not policy.next_response_minutes or not _awaiting_reply(ticket):
        ticket.next_response_due = None
    elif ticket.next_response_due is None or policy_changed:
        ticket.next_response_due = calendar.add(_oldest_unanswered(ticket), policy.next_response_minutes)


def open_targets(ticket: Ticket, policy: SLAPolicy) -> list[Target]:
    """The clocks still running (not met yet), nearest due first."""
    targets = []
    if ticket.first_responded_at is None and ticket.first_response_due:
        targets.append(Target("first_response", ticket.first_response_due, policy.first_response_minutes))
    if ticket.next_response_due and policy.next_response_minutes:
        targets.append(Target("next_response", ticket.next_response_due, policy.next_response_minutes))
    if ticket.resolution_due:
        targets.append(Target("resolution", ticket.resolution_due, policy.resolution_minutes))
    return sorted(targets, key=lambda target: target.due)


def _set_warning_point(ticket: Ticket, policy: SLAPolicy, calendar: CompiledCalendar, now: datetime) -> None:
    """The nearest due and the moment `warn_at_percent` of its target has elapsed; a new clock re-arms the warning."""
    targets = open_targets(ticket, policy)
    if not targets:
        ticket.sla_due_at = ticket.sla_warn_at = None
        return
    nearest = targets[0]
    ticket.sla_due_at = nearest.due
    ticket.sla_warn_at = calendar.add(nearest.due, -nearest.minutes * (100 - policy.warn_at_percent) / 100)
    if ticket.sla_warned and ticket.sla_warn_at > now:
        ticket.sla_warned = False


def _stop(ticket: Ticket, now: datetime) -> None:
    """Solved or closed: clocks stop (the pause point stays, so a reopen resumes from here); outcomes recorded."""
    policy = ticket.sla_policy
    ticket.next_response_due = ticket.sla_due_at = ticket.sla_warn_at = None
    if policy is None:
        ticket.sla_paused_at = None
        return
    calendar = sla_calendar_for(policy, ticket)
    stopped_at = ticket.solved_at or now
    if ticket.sla_paused_at is not None and ticket.sla_paused_at < stopped_at:
        ticket.sla_paused_minutes += max(0.0, calendar.between(ticket.sla_paused_at, stopped_at))
    ticket.sla_paused_at = stopped_at
    worked = calendar.between(ticket.created, stopped_at) - ticket.sla_paused_minutes
    ticket.sla_resolution_minutes = round(max(0.0, worked), 2)


def _record_late_outcomes(ticket: Ticket, now: datetime) -> None:
    """A target met after its due time, before a sweep noticed: a breach, recorded once, without escalation."""
    if ticket.sla_policy_id is None:
        return
    if ticket.first_responded_at and ticket.sla_first_response_minutes is None:
        calendar = sla_calendar_for(ticket.sla_policy, ticket)
        worked = calendar.between(ticket.created, ticket.first_responded_at) - ticket.sla_paused_minutes
        ticket.sla_first_response_minutes = round(max(0.0, worked), 2)
    if ticket.sla_breached:
        return
    late = None
    done = ticket.status in Ticket.DONE_STATUSES
    first_due, responded = ticket.first_response_due, ticket.first_responded_at
    if first_due and responded and responded > first_due:
        late = ("first_response", first_due, responded)
    elif done and ticket.resolution_due and ticket.solved_at and ticket.solved_at > ticket.resolution_due:
        late = ("resolution", ticket.resolution_due, ticket.solved_at)
    if late:
        name, due, met = late
        ticket.sla_breached = True
        _event(ticket, TicketEvent.Kind.SLA_BREACHED, target=name, due=due.isoformat(), met=met.isoformat(), late=True)


def _event(ticket: Ticket, kind: str, **data: Any) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind=kind, actor=None, data=data)
