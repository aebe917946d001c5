"""What the cloud mail fetchers share: their errors, the guarded HTTP session, Retry-After, and Bcc for API sends."""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

import requests
from django.conf import settings

from core.crypto import DecryptionFailed
from core.egress import guarded_requests_session

# Tests replace it to see the waits without spending them.
sleep: Callable[[float], None] = time.sleep

DEFAULT_RETRY_AFTER = 30.0  # when a 429/503 says nothing: Microsoft's and Google's own advice is "a while"


class CloudMailError(Exception):
    """A poll or send failed. `str()` is a sentence for admins; `temporary` says whether trying again may help."""

    def __init__(self, message: str, *, temporary: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after


class RateLimited(CloudMailError):
    """The provider asked us to wait longer than a poll waits inline: try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, temporary=True, retry_after=retry_after)


@dataclass
class PollResult:
    imported: int = 0  # new messages stored
    seen: int = 0  # messages the provider listed (duplicates included)
    waited: float = 0.0  # seconds spent honouring Retry-After
    complete: bool = True  # False when the per-poll budget stopped it: the next poll continues


class ChunkedReceiver:
    """Collects fetched messages and stores them a chunk at a time through `inbound_receive_many` (one transaction
    and one filing task per chunk, as IMAP polls do); after each chunk is committed, `after_import` runs for every
    message taken in it (the provider is told only once the message is safe). Call `flush()` before moving a
    cursor past what was collected."""

    def __init__(
        self, mailbox: Any, source: str, result: PollResult, after_import: Callable[[str], None] | None = None
    ) -> None:
        from ..services.mailboxes import RECEIVE_CHUNK, RECEIVE_CHUNK_BYTES  # services call fetchers, not back

        self.mailbox, self.source, self.result, self.after_import = mailbox, source, result, after_import
        self.chunk, self.chunk_bytes = RECEIVE_CHUNK, RECEIVE_CHUNK_BYTES
        self.pending: list[Any] = []
        self.taken: list[str] = []
        self.held = 0

    def add(self, message_id: str, raw: bytes | None) -> None:
        """One listed message: its bytes (None when it vanished since it was listed)."""
        from ..services.inbound import Fetched
        from ..services.mailboxes import mailbox_test_arrival

        if raw is None:
            return
        if not mailbox_test_arrival(self.mailbox, raw):  # Settings → Channels' test message is no ticket
            self.pending.append(Fetched(raw, message_id))
            self.held += len(raw)
        self.taken.append(message_id)
        if len(self.taken) >= self.chunk or self.held >= self.chunk_bytes:
            self.flush()

    def flush(self) -> None:
        from ..services.inbound import inbound_receive_many

        if self.pending:
            stored = inbound_receive_many(self.pending, source=self.source, mailbox=self.mailbox)
            self.result.imported += sum(created for _record, created in stored)
        taken, self.pending, self.taken, self.held = self.taken, [], [], 0
        if self.after_import is not None:
            for message_id in taken:
                self.after_import(message_id)


def mailbox_secrets(mailbox: Any) -> dict[str, Any]:
    """The mailbox's decrypted secrets, or CloudMailError when the server's keys no longer open them."""
    try:
        return mailbox.secrets()
    except DecryptionFailed:
        raise CloudMailError(
            "The stored credentials cannot be decrypted (the server's encryption keys changed): enter them again.",
            temporary=False,
        ) from None


def ca_verify() -> str | bool:
    """The certificate authorities to trust: the operator's EGRESS_CA_BUNDLE, else the environment's, else certifi."""
    return str(getattr(settings, "EGRESS_CA_BUNDLE", "") or "") or os.environ.get("REQUESTS_CA_BUNDLE") or True


def cloud_session() -> requests.Session:
    """A requests session through the egress guard, trusting `ca_verify()` (trust_env stays off)."""
    session = guarded_requests_session()
    session.verify = ca_verify()
    return session


def retry_after_seconds(headers: Any) -> float:
    """Seconds a 429/503 asks us to wait: Retry-After in seconds or as an HTTP date; a default when absent."""
    value = str(headers.get("retry-after") or headers.get("Retry-After") or "").strip()
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(0.0, when.timestamp() - time.time())


def max_inline_wait() -> float:
    return float(getattr(settings, "CLOUDMAIL_MAX_WAIT_SECONDS", 10))


def with_bcc(raw: bytes, recipients: Iterable[str]) -> bytes:
    """The MIME message with a Bcc header for recipients its To/Cc do not name.

    Graph's sendMail and Gmail's messages.send take recipients only from the headers (there is no envelope); both
    drop Bcc from what they deliver."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    headers = BytesHeaderParser(policy=compat32).parsebytes(head)
    named = {
        address.lower()
        for _name, address in email.utils.getaddresses(
            [str(value) for field in ("To", "Cc", "Bcc") for value in headers.get_all(field, [])]
        )
    }
    hidden = [address for address in recipients if address and address.lower() not in named]
    if not hidden:
        return raw
    newline = b"\r\n" if b"\r\n" in head else b"\n"
    return b"Bcc: " + ", ".join(hidden).encode() + newline + raw


def short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
