"""The inbound API channel: forms and bots open a ticket or add a message to one, safely retried with an
`Idempotency-Key` (the first answer is stored for a day and replayed; the same key with another request is refused).

Concurrent duplicates: the key's row is inserted first, in the transaction that does the work, so a second request
with the same key waits on the unique index until the first commits, then finds its answer (or, if the first
failed and rolled back, does the work itself). Only successful answers are stored: a refused request may be sent
again, corrected, with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk import facade as helpdesk
from helpdesk.contracts import InboundAttachment, ReceivedMessage

from ..models import ApiIdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
CHANNEL = "api"
SUBJECT_FROM_BODY_CHARS = 80


class TicketClosed(Exception):
    """The ticket is closed: the customer must open a new one. `str()` is for people."""


class IdempotencyConflict(Exception):
    """The key was used for another request (or that request is still running). `str()` is for people."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(*, user_id: int | None, path: str, data: Any) -> str:
    canonical = json.dumps({"user": user_id, "path": path, "data": data}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    *, key: str, fingerprint: str, user_id: int | None, run: Callable[[], tuple[int, dict[str, Any]]]
) -> StoredAnswer:
    """Runs `run` once per key: a retry of the same request gets the stored answer back."""
    ApiIdempotencyKey.objects.filter(key=key, expires_at__lte=timezone.now()).delete()
    stored = ApiIdempotencyKey.objects.filter(key=key).first()
    if stored is not None:
        return _replay(stored, fingerprint)
    try:
        with transaction.atomic():
            row = ApiIdempotencyKey.objects.create(
                key=key,
                request_hash=fingerprint,
                user_id=user_id,
                response_status=0,
                response_body={},
                expires_at=timezone.now() + KEY_LIFETIME,
            )
            status, body = run()
            row.response_status, row.response_body = status, body
            row.save(update_fields=["response_status", "response_body"])
    except IntegrityError:  # the same key committed by a concurrent request while this one waited
        stored = ApiIdempotencyKey.objects.filter(key=key).first()
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    return StoredAnswer(status=status, body=body, replayed=False)


def _replay(stored: ApiIdempotencyKey, fingerprint: str) -> StoredAnswer:
    if stored.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request. Send a new key for a new request, "
            "or repeat the original request exactly to get its answer again."
        )
    return StoredAnswer(status=stored.response_status, body=stored.response_body, replayed=True)


def idempotency_keys_purge() -> int:
    """Forgets answers older than a day; returns how many."""
    deleted, _ = ApiIdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def api_message_receive(
    *,
    body: str,
    subject: str = "",
    requester_email: str = "",
    requester_name: str = "",
    ticket_id: int | None = None,
    attachments: Sequence[InboundAttachment] = (),
) -> tuple[ReceivedMessage, list[str]]:
    """A new ticket on the API channel, or the requester's message on `ticket_id`. Returns where it landed and
    why any attachment was left out. ValidationError: the ticket is unknown; TicketClosed: it is closed."""
    if ticket_id is not None:
        ticket = helpdesk.ticket_summary(ticket_id)
        if ticket is None:
            raise ValidationError({"ticket_id": f"No ticket has the id {ticket_id} in this workspace."})
        if ticket.status == "closed":
            raise TicketClosed(f"Ticket #{ticket_id} is closed; send the message without ticket_id to open a new one.")
        return helpdesk.message_receive(
            ticket_id=ticket_id,
            body=body,
            sender_email=requester_email,
            sender_name=requester_name,
            channel=CHANNEL,
            attachments=attachments,
        )
    return helpdesk.ticket_open(
        subject=(subject or "").strip() or _subject_from(body),
        body=body,
        sender_email=requester_email,
        sender_name=requester_name,
        channel=CHANNEL,
        attachments=attachments,
    )


def _subject_from(body: str) -> str:
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return first if len(first) <= SUBJECT_FROM_BODY_CHARS else first[: SUBJECT_FROM_BODY_CHARS - 1].rstrip() + "…"
