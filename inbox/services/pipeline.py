"""Filing a stored message: parse the MIME, thread it onto its ticket or open a new one.

First cut: the plain-text body of a well-formed message opens a ticket. Threading, quote stripping, inline
images, auto-reply and bounce detection come next (issue 11, "The pipeline").
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import parseaddr

from helpdesk import facade as helpdesk

from ..models import InboundEmail


def inbound_file(inbound: InboundEmail) -> None:
    with inbound.raw.open("rb") as stored:
        message: EmailMessage = email.message_from_binary_file(stored, policy=email.policy.default)
    name, address = parseaddr(str(message.get("From", "")))
    subject = str(message.get("Subject", "") or "").strip() or "(no subject)"
    body_part = message.get_body(preferencelist=("plain",))
    body = body_part.get_content().strip() if body_part is not None else ""
    inbound.sender = address[:320]
    inbound.subject = subject[:300]
    received, _refused = helpdesk.ticket_open(
        subject=subject[:200],
        body=body or "(empty message)",
        sender_email=address,
        sender_name=name,
        channel="email",
        external_id=inbound.message_id[:255],
    )
    inbound.ticket_id = received.ticket_id
    inbound.ticket_message_id = received.message_id
    inbound.created_ticket = received.created_ticket
    inbound.status = InboundEmail.Status.IMPORTED
