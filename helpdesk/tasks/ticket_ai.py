"""Celery entry points of the ticket AI (ids in, one service call each) and its beat fan-out."""

from __future__ import annotations

from celery import shared_task

from ai.facade import AIUnavailable
from tenants.services import tenants_fan_out

from ..services import ticket_ai


@shared_task(
    autoretry_for=(AIUnavailable,),
    retry_backoff=30,  # 30 s, 1 min, 2 min … with jitter: a provider outage is not hammered
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def analyze_ticket_task(ticket_id: int) -> bool:
    """Queued after a ticket is created or the customer writes; True when a new analysis was stored.

    Idempotent: a repeat on unchanged text stores nothing. AIUnavailable (the ticket is already marked failed)
    is retried with backoff; after the last retry the periodic catch-up tries again.
    """
    return ticket_ai.ticket_analyze(ticket_id) is not None


@shared_task
def solved_ticket_index_task(ticket_id: int) -> bool:
    """Queued when a ticket is solved: embeds it for "similar solved tickets" (off the request)."""
    return ticket_ai.solved_ticket_index(ticket_id=ticket_id)


@shared_task
def solved_tickets_index_all_task() -> int:
    return ticket_ai.solved_tickets_index_all()


@shared_task
def ticket_ai_maintenance_task() -> dict[str, int]:
    """Per workspace, every few minutes: re-queue analyses left pending or failed; queue new versions of the
    ticket classifiers when due (they train in their own bulk job)."""
    queued = ticket_ai.analysis_catch_up()
    training = ticket_ai.ticket_classifiers_train()
    return {"queued": queued, "trained_examples": sum(training.values())}


@shared_task
def ticket_ai_maintenance_fanout_task() -> int:
    """Scheduled by beat in the public schema: one `ticket_ai_maintenance_task` per workspace."""
    return tenants_fan_out(ticket_ai_maintenance_task)
