"""Emails from the helpdesk, plain text from templates: acknowledgements and surveys to requesters are handed to
the inbox after commit (helpdesk.outgoing: it sends them from the workspace's support address, threaded on the
ticket); SLA notices to agents are sent after commit with Django's mail.

Links point at the workspace's configured domain (core.links), never at a request's Host header.
A mail server that refuses is logged; it never undoes or fails the change that wanted the email.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from core.emails import workspace_name

from .contracts import OutgoingMessage
from .outgoing import publish_on_commit

logger = logging.getLogger(__name__)


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


def customer_publish_after_commit(prefix: str, *, kind: str, ticket, to: str, context: dict) -> None:
    """Renders `<prefix>_subject.txt` and `<prefix>_message.txt` as an email about `ticket` to its requester (and
    the ticket's CCs, as a reply would be), of `kind` ("acknowledgement", "csat"), and hands it to whoever delivers
    mail once the transaction commits."""
    context = {"workspace_name": workspace_name(), **context}
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    body = render_to_string(f"{prefix}_message.txt", context)
    publish_on_commit(
        OutgoingMessage(
            ticket_id=ticket.pk,
            kind=kind,
            channel=ticket.channel,
            subject=subject,
            body=body,
            to=(to,),
            cc=tuple(address for address in ticket.cc if address.lower() != to.lower()),
        )
    )
