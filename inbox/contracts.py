"""What other apps pass to and get back from the inbox's facade: plain frozen dataclasses, never models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class EmailAttachment:
    """A file to send with a business email, as bytes."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class EmailDelivery:
    """A business email and how its delivery went: status is queued, sent, deferred (retrying), bounced or failed;
    `answer` is the mail server's last word (or the bounce's diagnostic)."""

    id: int
    reference: str
    status: str
    status_label: str
    answer: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    message_id: str
    created: datetime
    sent_at: datetime | None
    attachments: tuple[tuple[str, str], ...] = ()  # (filename, sha256)

    @property
    def delivered(self) -> bool:
        return self.status == "sent"

    @property
    def problem(self) -> bool:
        return self.status in ("bounced", "failed")


class SmsNoticeError(Exception):
    """A notice text was not sent (inbox.facade.sms_notice_send); `retryable` when trying later may work."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
