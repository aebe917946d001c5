"""Celery entry points of SMS: file a received text, send an agent's reply (retried while Twilio is busy)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from ..services import sms

SEND_RETRIES = 6
BACKOFF_SECONDS = (5, 15, 45, 120, 300, 600)  # about 18 minutes in all, then the reply shows "failed"


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=5, retry_jitter=True, max_retries=5)
def sms_inbound_process_task(message_id: int, opt_out_type: str = "") -> str | None:
    """Queued when Twilio posted a text: file it on the sender's ticket (or record STOP/START). Idempotent: the
    filing is one transaction, so a retry after a database error starts afresh."""
    message = sms.sms_inbound_process(message_id, opt_out_type)
    return message.status if message else None


@shared_task(bind=True, max_retries=SEND_RETRIES)
def sms_send_task(self, message_id: int) -> str:
    """Queued for an agent's reply on an SMS ticket. Idempotent: a reply Twilio accepted is not sent again."""
    try:
        return sms.sms_send(message_id)
    except sms.SmsRetryable as error:
        if self.request.retries >= self.max_retries:
            sms.sms_send_gave_up(message_id, str(error))
            return "failed"
        sms.sms_send_deferred(message_id, str(error))
        raise self.retry(countdown=BACKOFF_SECONDS[self.request.retries], exc=error) from error
