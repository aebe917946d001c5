"""Receiving mail: every message is stored whole and committed first (`inbound_receive`), then processed from the
stored bytes (`inbound_process`, in Celery): parsed, threaded onto its ticket or opening a new one.

Receiving is what fetchers (IMAP, Microsoft Graph, Gmail) and the forwarding webhook call; it is idempotent on
the Message-ID, so a message fetched twice, or re-fetched after a crash, is stored once.

Pollers store in chunks (`inbound_receive_many`): one transaction and one filing task per chunk. Pushed mail (the
forwarding webhook, the SMTP receiver) arrives one message per request, so it is filed by coalescing instead
(`coalesce=True`): after the commit, a cache flag says a filing task is queued and not yet started; every message
committed while the flag is up is left to that task, which lowers the flag before it reads what waits
(`inbound_process_pending`). Under load the batches grow by themselves; alone, a message is filed at once.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.outbox import enqueue, enqueue_on_commit
from core.workspace_config import workspace_config_pinned

from ..mail.charsets import decode_header
from ..models import InboundEmail, Mailbox
from ..models.mail import message_id_key as message_key

logger = logging.getLogger(__name__)

HEADER_BYTES_KEPT = 64 * 1024  # of a rejected (oversized) message: enough to show who sent what


@dataclass(frozen=True)
class Fetched:
    """One message as a fetcher holds it: its bytes (only the headers of one too large), where the server keeps
    it, and its whole size when known."""

    raw: bytes
    source_ref: str = ""
    size: int | None = None


def inbound_receive(
    *,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None = None,
    source_ref: str = "",
    size: int | None = None,
    coalesce: bool = False,
) -> tuple[InboundEmail, bool]:
    """Stores one received message and queues its processing. Returns (record, created); created is False when
    the same Message-ID was received before (nothing is stored again).

    `size`: the whole message's size when `raw` holds only its headers (a fetcher that saw it is too large).
    `coalesce`: filed with the others waiting (pushed mail, see the module's docstring), not by a task of its own."""
    with transaction.atomic():
        inbound, created = _store(Fetched(raw, source_ref, size), source=source, mailbox=mailbox)
        if created and inbound.status == InboundEmail.Status.RECEIVED:
            if coalesce:
                transaction.on_commit(_pending_filing_queue)
            else:
                from ..tasks.inbound import inbound_process_task  # the task module calls these services

                enqueue_on_commit(inbound_process_task, inbound.pk)
    return inbound, created


PENDING_FLAG = "inbox:pending-filing-queued"  # the cache's key function adds the workspace's schema
PENDING_FLAG_SECONDS = 120  # a lost task's flag expires; `inbound_retry_stuck` files what it left
PENDING_SOURCES = (InboundEmail.Source.WEBHOOK, InboundEmail.Source.SMTP)
PENDING_LIMIT = 500  # per task; more waiting queues another task
PENDING_BATCH = 20  # messages filed per transaction


def _pending_filing_queue() -> None:
    """After a pushed message committed: queue the filing task unless one is queued and has not started yet
    (that one reads the waiting messages after lowering the flag, so it sees this one)."""
    if cache.add(PENDING_FLAG, 1, timeout=PENDING_FLAG_SECONDS):
        from ..tasks.inbound import inbound_process_pending_task  # the task module calls these services

        enqueue(inbound_process_pending_task)


def inbound_process_pending() -> list[InboundEmail]:
    """Files the pushed messages waiting (never tried, received recently: older or tried ones are
    `inbound_retry_stuck`'s), PENDING_BATCH per transaction. Lowers the flag first: see the module's docstring."""
    cache.delete(PENDING_FLAG)
    waiting = InboundEmail.objects.filter(
        status=InboundEmail.Status.RECEIVED,
        source__in=PENDING_SOURCES,
        attempts=0,
        received__gte=timezone.now() - STUCK_AFTER,
    )
    ids = list(waiting.order_by("pk").values_list("pk", flat=True)[: PENDING_LIMIT + 1])
    if len(ids) > PENDING_LIMIT:
        ids = ids[:PENDING_LIMIT]
        transaction.on_commit(_pending_filing_queue)  # the rest: another task (at once outside a transaction)
    filed: list[InboundEmail] = []
    for start in range(0, len(ids), PENDING_BATCH):
        filed += inbound_process_many(ids[start : start + PENDING_BATCH])
    return filed


def inbound_receive_many(
    fetched: Sequence[Fetched], *, source: str, mailbox: Mailbox | None = None
) -> list[tuple[InboundEmail, bool]]:
    """Stores a batch of fetched messages in one transaction (as `inbound_receive` does each) and queues one task
    that files the new ones together (`inbound_process_many`). Returns (record, created) per message, in order.

    Nothing is committed before all are stored: a fetcher tells its server a message was taken only after this
    returns, so a crash mid-batch re-fetches the batch, and the Message-ID deduplication stores nothing twice."""
    if not fetched:
        return []
    results = []
    with transaction.atomic():
        message_ids = [_message_id(item.raw) for item in fetched]
        known = _known(message_ids)
        for item, message_id in zip(fetched, message_ids, strict=True):
            existing = known.get(message_key(message_id))
            if existing is not None:
                results.append((existing, False))
                continue
            inbound, created = _store(item, source=source, mailbox=mailbox, message_id=message_id, checked=True)
            known[inbound.message_key] = inbound  # the same message twice in one batch is stored once
            results.append((inbound, created))
        new = [inbound.pk for inbound, created in results if created and inbound.status == InboundEmail.Status.RECEIVED]
        if new:
            from ..tasks.inbound import inbound_process_batch_task  # the task module calls these services

            enqueue_on_commit(inbound_process_batch_task, new)
    return results


def _known(message_ids: list[str]) -> dict[str, InboundEmail]:
    keys = [message_key(message_id) for message_id in message_ids]
    return {inbound.message_key: inbound for inbound in InboundEmail.objects.filter(message_key__in=keys)}


def _store(
    item: Fetched, *, source: str, mailbox: Mailbox | None, message_id: str = "", checked: bool = False
) -> tuple[InboundEmail, bool]:
    """Stores the message unless its Message-ID was stored before (`checked`: the caller looked already)."""
    raw = item.raw
    size = max(len(raw), item.size or 0)
    message_id = message_id or _message_id(raw)
    key = message_key(message_id)
    if not checked:
        existing = InboundEmail.objects.filter(message_key=key).first()
        if existing is not None:
            return existing, False
    inbound = InboundEmail(
        mailbox=mailbox,
        source=source,
        source_ref=item.source_ref[:255],
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
        with transaction.atomic():  # a savepoint: a duplicate undoes this message alone
            content = raw[:HEADER_BYTES_KEPT] if too_large else raw
            inbound.raw.save(f"{key}.eml", ContentFile(content), save=False)
            inbound.save(force_insert=True)
    except IntegrityError:  # another worker stored the same message a moment ago
        inbound.raw.delete(save=False)
        return InboundEmail.objects.get(message_key=key), False
    return inbound, True


def _message_id(raw: bytes) -> str:
    headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0], policy=email.policy.compat32)
    # Decoded as the pipeline decodes it, so an internationalised id (SMTPUTF8 mail) keys the same both ways.
    # (compat32's `get` hands out a Header object for 8-bit values; `raw_items` the text the pipeline decodes.)
    raw_value = next((str(value) for name, value in headers.raw_items() if name.lower() == "message-id"), "")
    value = decode_header(raw_value).strip()
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
    waiting = InboundEmail.objects.filter(pk=inbound_id, status=InboundEmail.Status.RECEIVED)
    # The usual case in one statement (committed on its own); the others are looked at under a lock.
    if not waiting.filter(attempts__lt=MAX_ATTEMPTS).update(attempts=F("attempts") + 1):
        with transaction.atomic():
            inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
            if inbound is None or inbound.status != InboundEmail.Status.RECEIVED:
                return inbound
            if inbound.attempts >= MAX_ATTEMPTS:
                return _failed(inbound, f"Processing stopped after {inbound.attempts} attempts that did not finish.")
            inbound.attempts += 1  # put back to waiting (an admin's "Process again") since the update above
            inbound.save(update_fields=["attempts"])
    return _file(inbound_id)


def inbound_process_many(inbound_ids: Sequence[int]) -> list[InboundEmail]:
    """Files a batch of stored messages: the attempts counted in one committed transaction, then all filed in one
    more, each in its own savepoint (a message that cannot be filed is marked FAILED alone, as `inbound_process`
    does). A worker that dies mid-batch commits none of it: `inbound_retry_stuck` queues each message again on its
    own, so a message that kills the worker fails alone. A batch tried before is filed one message at a time."""
    with transaction.atomic():
        records = list(
            InboundEmail.objects.select_for_update()
            .filter(pk__in=inbound_ids, status=InboundEmail.Status.RECEIVED)
            .order_by("pk")
        )
        done = [inbound for inbound in records if inbound.attempts >= MAX_ATTEMPTS]
        for inbound in done:
            _failed(inbound, f"Processing stopped after {inbound.attempts} attempts that did not finish.")
        todo = [inbound.pk for inbound in records if inbound.attempts < MAX_ATTEMPTS]
        tried_before = any(inbound.attempts for inbound in records)
        InboundEmail.objects.filter(pk__in=todo).update(attempts=F("attempts") + 1)
    if tried_before or len(todo) < 2:
        return done + [inbound for inbound in map(_file, todo) if inbound is not None]
    # The configuration's generation is read once for the batch, not a few times per message.
    with workspace_config_pinned(), transaction.atomic():
        locked = InboundEmail.objects.select_for_update().filter(pk__in=todo, status=InboundEmail.Status.RECEIVED)
        return done + [_file_record(inbound) for inbound in locked.order_by("pk")]


def _file(inbound_id: int) -> InboundEmail | None:
    with workspace_config_pinned(), transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None or inbound.status != InboundEmail.Status.RECEIVED:
            return inbound
        return _file_record(inbound)


def _file_record(inbound: InboundEmail) -> InboundEmail:
    """Files a record locked by the caller's transaction; a failure leaves it FAILED, the transaction going on."""
    from . import pipeline

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
