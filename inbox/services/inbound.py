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

from django.conf import settings
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


def inbound_process(inbound_id: int) -> InboundEmail | None:
    """Parses a stored message and files it on a ticket. Safe to run twice: a processed record is left alone."""
    from . import pipeline

    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None or inbound.status != InboundEmail.Status.RECEIVED:
            return inbound
        inbound.attempts += 1
        pipeline.inbound_file(inbound)
        inbound.processed = timezone.now()
        inbound.save()
    return inbound
