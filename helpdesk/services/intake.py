"""What follows a new ticket, off the request that created it: automatic assignment, the live row and toast for
the team, and queueing the AI analysis.

`ticket_create` commits the ticket with its SLA clocks and answers at once; the intake runs in Celery after the
commit (helpdesk.tasks.tickets), queued through core's outbox in the ticket's own transaction. When the broker
cannot take it right after the commit it runs at once in the creating process instead (and is then not sent), so
a ticket is never left unassigned and unannounced by an outage: agents are waiting for it.
"""

from __future__ import annotations

from django.db import transaction

from core.outbox import enqueue_on_commit, enqueue_or_run_on_commit

from .. import live, webhook_events
from ..contracts import TICKET_CREATED
from ..models import Ticket
from . import assignment


def intake_on_commit(ticket: Ticket, *, actor=None) -> None:
    """After the creating transaction commits, queue the intake (or run it here if the broker is down)."""
    from ..tasks.tickets import ticket_intake_task  # the task modules call these services

    enqueue_or_run_on_commit(ticket_intake_task, ticket.pk, getattr(actor, "pk", None))


@transaction.atomic
def ticket_intake(*, ticket_id: int, actor_id: int | None = None) -> bool:
    """Assigns the new ticket (when the workspace auto-assigns), announces it, queues its analysis.

    False when the ticket is gone (deleted or merged away before the intake ran). The row and toast are sent after
    this transaction commits, so they show the assignment.
    """
    ticket = Ticket.objects.select_related("category", "team", "assignee").filter(pk=ticket_id).first()
    if ticket is None:
        return False
    assignment.ticket_auto_assign(ticket)  # never raises: nobody free leaves it in the queue, with the reason
    if ticket.ai_analysis_status == Ticket.AnalysisStatus.PENDING:  # marked so at insert when analysis is on
        from ..tasks.ticket_ai import analyze_ticket_task  # the task modules call these services

        enqueue_on_commit(analyze_ticket_task, ticket.pk)  # a broker outage keeps it in the outbox until it is back
    live.ticket_created(ticket, actor_id=actor_id)
    webhook_events.ticket_event_on_commit(TICKET_CREATED, ticket)  # after intake: with its assignment
    return True
