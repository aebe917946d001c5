"""Delivery reports (DSN, RFC 3464) about mail we sent: shown as "delivery failed" on that message in the thread,
never opened as a ticket."""

from __future__ import annotations

from helpdesk import facade as helpdesk


def bounce_record(*, original_message_id: str, diagnostic: str, permanent: bool = True) -> bool:
    """Marks the thread entry we sent as `original_message_id` bounced (permanent) or deferred. False when the
    report is about no message of ours."""
    message_id = helpdesk.message_for_external_id(original_message_id)
    if message_id is None:
        return False
    status = "bounced" if permanent else "deferred"
    return helpdesk.message_delivery_set(message_id=message_id, status=status, detail=diagnostic)
