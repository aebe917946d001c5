"""SLA fields of tickets written around the engine (demo history, imports), filled in afterwards."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from ...models import Ticket
from .calendars import sla_calendar_for
from .clocks import ticket_sla_refresh


@dataclass(frozen=True)
class BackfillResult:
    finished: int
    running: int


def sla_backfill(*, chunk: int = 1000) -> BackfillResult:
    """Fills what the engine would have kept for tickets written around it (demo history, imports): business
    minutes per target of finished tickets, and due / warning points of open tickets. Idempotent."""
    finished = 0
    pending = Ticket.objects.filter(
        status__in=Ticket.DONE_STATUSES, solved_at__isnull=False, sla_resolution_minutes__isnull=True
    ).select_related("sla_policy__calendar", "team__calendar")
    while batch := list(pending[:chunk]):
        for ticket in batch:
            calendar = sla_calendar_for(ticket.sla_policy, ticket)
            worked = calendar.between(ticket.created, ticket.solved_at) - ticket.sla_paused_minutes
            ticket.sla_resolution_minutes = round(max(0.0, worked), 2)
            if ticket.first_responded_at and ticket.sla_first_response_minutes is None:
                first = calendar.between(ticket.created, ticket.first_responded_at)
                ticket.sla_first_response_minutes = round(max(0.0, first), 2)
        Ticket.objects.bulk_update(batch, ["sla_resolution_minutes", "sla_first_response_minutes"])
        finished += len(batch)
    running = 0
    stale = Ticket.objects.open().filter(sla_policy__isnull=False, sla_due_at__isnull=True, sla_breached=False)
    for ticket in stale.select_related("customer").iterator(chunk_size=chunk):
        with transaction.atomic():
            ticket_sla_refresh(ticket)
        running += 1
    return BackfillResult(finished=finished, running=running)
