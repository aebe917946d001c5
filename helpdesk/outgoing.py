"""Hands the public messages a customer must receive to whoever delivers them (the inbox), after commit.

The helpdesk decides what the customer gets; the inbox decides how (email, chat, SMS) and reports the delivery
back through helpdesk.facade.message_delivery_set. With no receiver connected nothing is sent, and nothing fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from .contracts import AttachmentRef, OutgoingMessage, outgoing_message
from .models import Ticket, TicketMessage

logger = logging.getLogger(__name__)


def reply_publish_on_commit(ticket: Ticket, message: TicketMessage) -> None:
    """An agent's public reply (or the automatic one), to the requester and the ticket's CCs (or the recipients the
    agent chose)."""
    author = message.author
    outgoing = OutgoingMessage(
        ticket_id=ticket.pk,
        kind="reply" if author else "auto_response",  # nobody wrote it: the knowledge-base auto-response
        channel=ticket.channel,
        subject=ticket.subject,
        body=message.body,
        message_id=message.pk,
        author_name=(author.get_full_name() or author.get_username()) if author else "",
        to=tuple(message.to),
        cc=tuple(message.cc),
        bcc=tuple(message.bcc),
        attachments=tuple(attachment_refs(message)),
    )
    publish_on_commit(outgoing)


def attachment_refs(message: TicketMessage) -> list[AttachmentRef]:
    return [
        AttachmentRef(id=a.pk, filename=a.filename, content_type=a.content_type, size=a.size, content_id=a.content_id)
        for a in message.attachments.all()
    ]


_collecting = threading.local()


@contextmanager
def outgoing_collected() -> Iterator[list[OutgoingMessage]]:
    """While open (in this thread), the messages for customers are handed to the caller, in the yielded list,
    instead of to the receivers after commit: the caller delivers them in its own transaction (the inbox filing a
    batch of mail queues each acknowledgement with its ticket, not in a transaction of its own)."""
    collected: list[OutgoingMessage] = []
    outer = getattr(_collecting, "messages", None)
    _collecting.messages = collected
    try:
        yield collected
    finally:
        _collecting.messages = outer


def publish_on_commit(outgoing: OutgoingMessage) -> None:
    collected = getattr(_collecting, "messages", None)
    if collected is not None:
        collected.append(outgoing)
        return
    transaction.on_commit(lambda: _send(outgoing))


def _send(outgoing: OutgoingMessage) -> None:
    # A receiver that fails must not break the others, nor the request that already committed the message.
    for receiver, result in outgoing_message.send_robust(sender=OutgoingMessage, message=outgoing):
        if isinstance(result, Exception):
            logger.error(
                "delivery of a message on ticket #%s failed in %r", outgoing.ticket_id, receiver, exc_info=result
            )
