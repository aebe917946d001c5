"""Tells listeners (the inbox's outbound webhooks) what happened to a ticket, after commit, with the ticket and
message as the REST API shows them (`helpdesk.contracts.ticket_event`). When no receiver wants the event
(`ticket_event_wanted`: no webhook subscribes to it), nothing is built."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from .contracts import TicketEventPayload, ticket_event, ticket_event_wanted
from .models import Ticket, TicketMessage

logger = logging.getLogger(__name__)


def ticket_event_on_commit(
    event: str, ticket: Ticket, *, message: TicketMessage | None = None, actor: Any = None, **data: Any
) -> None:
    """Sends `event` once the current transaction commits, with the ticket as it is then."""
    if message is not None and message.kind != TicketMessage.Kind.REPLY:
        return  # internal notes never leave the product by webhook
    occurred, ticket_id, message_id = timezone.now(), ticket.pk, getattr(message, "pk", None)
    actor_id = getattr(actor, "pk", None)
    transaction.on_commit(lambda: _send(event, ticket_id, message_id, occurred, data, actor_id))


def _send(
    event: str, ticket_id: int, message_id: int | None, occurred: datetime, data: dict[str, Any], actor_id=None
) -> None:
    if not _wanted(event):
        return
    try:
        payload = _payload(event, ticket_id, message_id, occurred, data, actor_id)
    except Exception:  # the change is committed; a webhook that cannot be described must not fail the request
        logger.exception("could not describe %s on ticket #%s for webhooks", event, ticket_id)
        return
    if payload is None:
        return
    for receiver, result in ticket_event.send_robust(sender=TicketEventPayload, event=payload):
        if isinstance(result, Exception):
            logger.error("%s on ticket #%s failed in %r", event, ticket_id, receiver, exc_info=result)


def _wanted(event: str) -> bool:
    for receiver, answer in ticket_event_wanted.send_robust(sender=TicketEventPayload, event=event):
        if isinstance(answer, Exception):
            logger.error("asking %r about %s failed", receiver, event, exc_info=answer)
            return True  # when in doubt, describe it: the receiver itself decides
        if answer:
            return True
    return False


def _payload(
    event: str, ticket_id: int, message_id: int | None, occurred: datetime, data: dict[str, Any], actor_id=None
) -> TicketEventPayload | None:
    from .api.serializers import MessageOutputSerializer, TicketDetailOutputSerializer  # imports the services
    from .selectors import tickets as selectors

    try:
        ticket = selectors.ticket_get(ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        return None
    message = None
    if message_id is not None:
        found = selectors.ticket_messages(ticket=ticket).filter(pk=message_id).first()
        message = dict(MessageOutputSerializer(found).data) if found is not None else None
    return TicketEventPayload(
        event=event,
        ticket_id=ticket_id,
        occurred_at=occurred,
        ticket=dict(TicketDetailOutputSerializer(ticket).data),
        message=message,
        data=data,
        actor_id=actor_id,
    )
