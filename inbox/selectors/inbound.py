"""Reads of received mail."""

from __future__ import annotations

from ..models import InboundEmail


def inbound_get(*, inbound_id: int) -> InboundEmail:
    """Raises InboundEmail.DoesNotExist."""
    return InboundEmail.objects.get(pk=inbound_id)


def inbound_ids_for_ticket(*, ticket_id: int) -> dict[int | None, int]:
    """The received mail behind a ticket's thread, for "original .eml" links: thread entry id → InboundEmail id.
    The key None is the message that opened the ticket (its text is the ticket's description, not an entry)."""
    rows = InboundEmail.objects.filter(ticket_id=ticket_id).values_list("ticket_message_id", "created_ticket", "pk")
    found: dict[int | None, int] = {}
    for message_id, created_ticket, inbound_id in rows.order_by("received", "id"):
        if created_ticket:
            found.setdefault(None, inbound_id)
        if message_id is not None:
            found.setdefault(message_id, inbound_id)
    return found
