"""Celery entry points of inbound mail."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from ..services import inbound


@shared_task
def inbound_process_task(inbound_id: int) -> str | None:
    """Queued when a message is stored: parse it and file it on a ticket (helpdesk.facade)."""
    record = inbound.inbound_process(inbound_id)
    return record.status if record else None


@shared_task
def inbound_process_batch_task(inbound_ids: list[int]) -> int:
    """Queued when a fetcher stored a batch: file its new messages together. Returns how many were imported."""
    records = inbound.inbound_process_many(inbound_ids)
    return sum(record.status == record.Status.IMPORTED for record in records)


@shared_task
def inbound_process_pending_task() -> int:
    """Queued after a webhook or SMTP delivery committed, once for all that arrive before it starts: files every
    message received that way and still waiting, in batches. Returns how many were imported."""
    records = inbound.inbound_process_pending()
    return sum(record.status == record.Status.IMPORTED for record in records)


@shared_task
def inbound_retry_stuck_task() -> int:
    """Messages still waiting minutes after they were stored (a worker died mid-batch) are queued again."""
    return inbound.inbound_retry_stuck()


@shared_task
def inbound_retry_stuck_fanout_task() -> int:
    return tenants_fan_out(inbound_retry_stuck_task)
