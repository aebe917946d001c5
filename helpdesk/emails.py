"""Emails from the helpdesk (acknowledgements and surveys to requesters, SLA notices to agents): plain text from
templates, sent after commit.

Links point at the workspace's configured domain (core.links), never at a request's Host header.
A mail server that refuses is logged; it never undoes or fails the change that wanted the email.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def workspace_name() -> str:
    return getattr(getattr(connection, "tenant", None), "name", "") or "Switchboard"


def send_after_commit(prefix: str, *, to: str | list[str], context: dict) -> None:
    """Renders `<prefix>_subject.txt` and `<prefix>_message.txt`; sends them once the transaction commits."""
    context = {"workspace_name": workspace_name(), **context}
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    body = render_to_string(f"{prefix}_message.txt", context)
    message = EmailMessage(subject, body, to=[to] if isinstance(to, str) else list(to))

    def send() -> None:
        try:
            message.send()
        except Exception:
            logger.exception("could not send the %s email", prefix.rsplit("/", 1)[-1])

    transaction.on_commit(send)
