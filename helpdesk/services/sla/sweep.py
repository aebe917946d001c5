"""The SLA sweep: near-breach warnings and breach escalations, each sent exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ... import webhook_events
from ...contracts import SLA_BREACHED, SLA_WARNING
from ...models import Ticket, TicketEvent
from .clocks import RUNNING_STATUSES, Target, _event, open_targets
from .notifications import _escalation_notify

SWEEP_BATCH = 200
SWEEP_MAX_BATCHES = 25


@dataclass(frozen=True)
class SweepResult:
    warned: int
    breached: int


def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Warns about tickets past their warning point and escalates those past a due time. Safe to overlap."""
    now = now or timezone.now()
    warned = _sweep(now, _warn_batch)
    breached = _sweep(now, _breach_batch)
    return SweepResult(warned=warned, breached=breached)


def _sweep(now: datetime, batch) -> int:
    total = 0
    for _ in range(SWEEP_MAX_BATCHES):
        with transaction.atomic():
            handled = batch(now)
        total += handled
        if handled < SWEEP_BATCH:
            break
    return total


def _locked(queryset) -> list[Ticket]:
    queryset = queryset.select_related("sla_policy", "assignee", "team__lead")
    return list(queryset.select_for_update(skip_locked=True, of=("self",))[:SWEEP_BATCH])


def _warn_batch(now: datetime) -> int:
    tickets = _locked(
        Ticket.objects.filter(
            status__in=RUNNING_STATUSES, sla_warned=False, sla_warn_at__lte=now, sla_due_at__gt=now
        ).order_by("sla_warn_at")
    )
    for ticket in tickets:
        target = _nearest_target(ticket)
        ticket.sla_warned = True
        ticket.save(update_fields=["sla_warned"])
        _event(ticket, TicketEvent.Kind.SLA_WARNING, target=target.name, due=target.due.isoformat())
        webhook_events.ticket_event_on_commit(SLA_WARNING, ticket, target=target.name, due=target.due.isoformat())
        _escalation_notify(ticket, target, breached=False, now=now)
    return len(tickets)


def _breach_batch(now: datetime) -> int:
    tickets = _locked(
        Ticket.objects.filter(status__in=RUNNING_STATUSES, sla_breached=False, sla_due_at__lte=now).order_by(
            "sla_due_at"
        )
    )
    for ticket in tickets:
        target = _nearest_target(ticket)
        ticket.sla_breached = ticket.sla_warned = True
        ticket.save(update_fields=["sla_breached", "sla_warned"])
        _event(ticket, TicketEvent.Kind.SLA_BREACHED, target=target.name, due=target.due.isoformat())
        webhook_events.ticket_event_on_commit(SLA_BREACHED, ticket, target=target.name, due=target.due.isoformat())
        escalation_team = ticket.sla_policy.breach_reassign_team if ticket.sla_policy is not None else None
        _escalation_notify(ticket, target, breached=True, now=now, handed_to=escalation_team)
        if escalation_team is not None:
            _breach_reassign(ticket, target)
    return len(tickets)


def _nearest_target(ticket: Ticket) -> Target:
    if ticket.sla_policy is not None:
        targets = open_targets(ticket, ticket.sla_policy)
        if targets:
            return targets[0]
    return Target("resolution", ticket.sla_due_at, 0)


def _breach_reassign(ticket: Ticket, target: Target) -> None:
    """Hands the ticket to the policy's escalation team; an assignee outside that team lets go of it."""
    from .. import assignment
    from .. import tickets as ticket_services  # tickets.py calls back into this module

    team = ticket.sla_policy.breach_reassign_team
    if ticket.team_id == team.pk:
        return
    keeps = ticket.assignee_id is not None and team.members.filter(pk=ticket.assignee_id).exists()
    reason = f"SLA {target.label} breached: policy “{ticket.sla_policy.name}” hands it to {team.name}."
    ticket = ticket_services.ticket_assign(
        ticket=ticket, assignee=ticket.assignee if keeps else None, team=team, actor=None, reason=reason
    )
    if not keeps:
        assignment.ticket_auto_assign(ticket)
