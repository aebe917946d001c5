"""Celery entry points of outbound email: one delivery attempt, and the sweep that retries deferred mail."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from ..services import outbound_email


@shared_task
def outbound_email_send_task(outbound_id: int) -> str | None:
    """Queued with the email (interactive: a customer waits for the answer); one attempt, retried by the sweep."""
    return outbound_email.outbound_email_send(outbound_id)


@shared_task
def outbound_email_retry_task() -> int:
    return outbound_email.outbound_email_retry_due()


@shared_task
def outbound_email_retry_fanout_task() -> int:
    return tenants_fan_out(outbound_email_retry_task)
