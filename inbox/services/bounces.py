"""Delivery reports (DSN, RFC 3464) about mail we sent: shown as "delivery failed" on that message in the thread,
never opened as a ticket. A business email (no ticket) keeps its bounce on its own row, which its app reads back."""

from __future__ import annotations

from django.utils import timezone

from helpdesk import facade as helpdesk

from ..models import OutboundEmail


def bounce_record(*, original_message_id: str, diagnostic: str, permanent: bool = True) -> bool:
    """Marks the thread entry we sent as `original_message_id` bounced (permanent) or deferred. False when the
    report is about no message of ours."""
    status = "bounced" if permanent else "deferred"
    # Our record of the email (acknowledgements and surveys have no thread entry); a later retry must not undo it.
    sent = OutboundEmail.objects.filter(message_id=original_message_id.strip()).first()
    if sent is not None and permanent:
        sent.status, sent.answer, sent.updated = OutboundEmail.Status.BOUNCED, diagnostic[:2000], timezone.now()
        sent.save(update_fields=["status", "answer", "updated"])
    if sent is not None and sent.ticket_id is None:
        return True  # a business email (a quote): its status is its own, no thread entry to mark
    message_id = helpdesk.message_for_external_id(original_message_id)
    if message_id is None:
        return sent is not None
    return helpdesk.message_delivery_set(message_id=message_id, status=status, detail=diagnostic)


def bounce_record_for_outbound(*, outbound_id: int, diagnostic: str, permanent: bool = True) -> str | None:
    """As `bounce_record`, for the email a bounce address (VERP) names; returns its Message-ID (None: unknown)."""
    message_id = OutboundEmail.objects.filter(pk=outbound_id).values_list("message_id", flat=True).first()
    if message_id is None:
        return None
    bounce_record(original_message_id=message_id, diagnostic=diagnostic, permanent=permanent)
    return message_id
