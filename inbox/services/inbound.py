"""Receiving mail: every message is stored whole and committed first (`inbound_receive`), then processed from the
stored bytes (`inbound_process`, in Celery): parsed, threaded onto its ticket or opening a new one.

Receiving is what fetchers (IMAP, Microsoft Graph, Gmail) and the forwarding webhook call; it is idempotent on
the Message-ID, so a message fetched twice, or re-fetched after a crash, is stored once.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.outbox import enqueue_on_commit

from ..models import InboundEmail, Mailbox
from ..models.mail import message_id_key

logger = logging.getLogger(__name__)

HEADER_BYTES_KEPT = 64 * 1024  # of a rejected (oversized) message: enough to show who sent what


def inbound_receive(
    *, raw: bytes, source: str, mailbox: Mailbox | None = None, source_ref: str = "", size: int | None = None
) -> tuple[InboundEmail, bool]:
    """Stores one received message and queues its processing. Returns (record, created); created is False when
    the same Message-ID was received before (nothing is stored again).

    `size`: the whole message's size when `raw` holds only its headers (a fetcher that saw it is too large)."""
    size = max(len(raw), size or 0)
    message_id = _message_id(raw)
    key = message_id_key(message_id)
    existing = InboundEmail.objects.filter(message_key=key).first()
    if existing is not None:
        return existing, False
    inbound = InboundEmail(
        mailbox=mailbox,
        source=source,
        source_ref=source_ref[:255],
        message_id=message_id,
        message_key=key,
        size=size,
    )
    too_large = size > settings.INBOX_MAX_MESSAGE_BYTES
    if too_large:
        inbound.status = InboundEmail.Status.REJECTED
        inbound.reason = (
            f"The message is {size:,} bytes; the limit is {settings.INBOX_MAX_MESSAGE_BYTES:,}. "
            "Only its headers were kept."
        )
    try:
        with transaction.atomic():
            content = raw[:HEADER_BYTES_KEPT] if too_large else raw
            inbound.raw.save(f"{key}.eml", ContentFile(content), save=False)
            inbound.save(force_insert=True)
            if not too_large:
                from ..tasks.inbound import inbound_process_task  # the task module calls these services

                enqueue_on_commit(inbound_process_task, inbound.pk)
    except IntegrityError:  # another worker stored the same message a moment ago
        inbound.raw.delete(save=False)
        return InboundEmail.objects.get(message_key=key), False
    return inbound, True


def _message_id(raw: bytes) -> str:
    headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0], policy=email.policy.compat32)
    value = str(headers.get("Message-ID", "") or "").strip()
    if value:
        return value[:998]
    # No Message-ID (broken clients, some gateways): the same bytes always get the same synthetic id.
    return f"<{hashlib.sha256(raw).hexdigest()}@missing-message-id.switchboard>"


MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=5)


def inbound_process(inbound_id: int) -> InboundEmail | None:
    """Parses a stored message and files it on a ticket. Safe to run twice: a processed record is left alone.

    The attempt is counted in its own committed transaction first, so a message that kills the worker (memory,
    a crash mid-batch) is tried again by `inbound_retry_stuck` at most MAX_ATTEMPTS times, then marked FAILED.
    Any error while filing leaves the record FAILED with a readable reason; the raw .eml stays."""
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None or inbound.status != InboundEmail.Status.RECEIVED:
            return inbound
        if inbound.attempts >= MAX_ATTEMPTS:
            return _failed(inbound, f"Processing stopped after {inbound.attempts} attempts that did not finish.")
        inbound.attempts += 1
        inbound.save(update_fields=["attempts"])
    return _file(inbound_id)


def _file(inbound_id: int) -> InboundEmail | None:
    from . import pipeline

    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None or inbound.status != InboundEmail.Status.RECEIVED:
            return inbound
        try:
            with transaction.atomic():  # a savepoint: a failure undoes the half-filed ticket, not the record
                pipeline.inbound_file(inbound)
        except Exception as error:  # nothing may stop the other messages: this one waits for an admin
            expected = isinstance(error, pipeline.Unfileable | ValidationError)
            logger.warning("inbound message %s could not be filed: %s", inbound.pk, error, exc_info=not expected)
            # Who sent what stays for the admins; nothing of the rolled-back filing does.
            inbound.ticket_id, inbound.ticket_message_id, inbound.created_ticket = None, None, False
            return _failed(inbound, failure_reason(error))
        inbound.processed = timezone.now()
        inbound.save()
    return inbound


def failure_reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "The helpdesk refused it: " + " ".join(error.messages)
    if isinstance(error, FileNotFoundError):
        return "The stored .eml is missing."
    detail = str(error).strip() or "no detail"
    return f"Could not be processed ({type(error).__name__}): {detail}"[:2000]


def _failed(inbound: InboundEmail, reason: str) -> InboundEmail:
    inbound.status = InboundEmail.Status.FAILED
    inbound.reason = reason
    inbound.processed = timezone.now()
    inbound.save()
    return inbound


def inbound_process_again(inbound: InboundEmail) -> bool:
    """An admin's "Process again" on a failed message: back to RECEIVED with fresh attempts, queued. False when
    it was not failed (imported mail is never filed twice)."""
    with transaction.atomic():
        updated = InboundEmail.objects.filter(pk=inbound.pk, status=InboundEmail.Status.FAILED).update(
            status=InboundEmail.Status.RECEIVED, attempts=0, reason="", processed=None
        )
        if updated:
            from ..tasks.inbound import inbound_process_task  # the task module calls these services

            enqueue_on_commit(inbound_process_task, inbound.pk)
    return bool(updated)


def inbound_retry_stuck(*, now=None) -> int:
    """Re-queues messages left waiting (a worker died mid-batch, a task was lost); gives up on those that used
    up their attempts. Returns how many were queued again."""
    now = now or timezone.now()
    stuck_status = InboundEmail.Status.RECEIVED
    stuck = InboundEmail.objects.filter(status=stuck_status, received__lt=now - STUCK_AFTER)
    for inbound_id in stuck.filter(attempts__gte=MAX_ATTEMPTS).values_list("pk", flat=True):
        with transaction.atomic():
            inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id, status=stuck_status).first()
            if inbound is not None:
                _failed(inbound, f"Processing stopped after {inbound.attempts} attempts that did not finish.")
    from ..tasks.inbound import inbound_process_task  # the task module calls these services

    queued = 0
    for inbound_id in stuck.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            enqueue_on_commit(inbound_process_task, inbound_id)
        queued += 1
    return queued
