"""Emails the inbox sends to the workspace's own people (not to customers): rendered here, sent after commit."""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def webhook_disabled_send(*, recipients: list[str], context: dict[str, Any]) -> None:
    """Tells the managers a webhook turned itself off, once the transaction that turned it off commits."""
    subject = " ".join(render_to_string("inbox/email/webhook_disabled_subject.txt", context).split())
    message = EmailMessage(
        subject, render_to_string("inbox/email/webhook_disabled_message.txt", context), to=recipients
    )

    def send() -> None:
        try:
            message.send()
        except Exception:
            logger.exception("could not email the managers about a webhook turned off")

    transaction.on_commit(send)
