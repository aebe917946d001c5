"""Celery entry points of inbound mail."""

from __future__ import annotations

from celery import shared_task

from ..services import inbound


@shared_task
def inbound_process_task(inbound_id: int) -> str | None:
    """Queued when a message is stored: parse it and file it on a ticket (helpdesk.facade)."""
    record = inbound.inbound_process(inbound_id)
    return record.status if record else None
