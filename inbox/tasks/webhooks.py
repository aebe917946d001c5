"""Celery entry points of outbound webhooks: one attempt of a delivery, the minute sweep of due retries."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from ..services import webhooks


@shared_task(ignore_result=True)
def webhook_deliver_task(delivery_id: int) -> str | None:
    """One attempt at sending a delivery (nothing when it is not due, or sent already). Its outcome is on the
    delivery row: no result is stored (a Redis write per event at 1,000 events a minute)."""
    delivery = webhooks.webhook_deliver(delivery_id)
    return delivery.status if delivery else None


@shared_task
def webhook_retry_due_task() -> int:
    """Queues this workspace's deliveries whose retry is due."""
    return webhooks.webhook_retry_due()


@shared_task
def webhook_retry_due_fanout_task() -> int:
    return tenants_fan_out(webhook_retry_due_task)
