"""Per-ticket reply addresses: `support+t123-<signature>@example.com`. A customer's answer to one of our emails
comes back to this address, which names its ticket; the signature (HMAC with the deployment's secret, salted with
the workspace's schema) means nobody can file mail on a ticket by guessing its number."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.db import connection

TOKEN = re.compile(r"\+t(?P<ticket>\d{1,12})-(?P<signature>[0-9a-z]{10})@", re.IGNORECASE)


def _signature(ticket_id: int) -> str:
    key = f"inbox.reply-address:{connection.schema_name}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, str(ticket_id).encode(), hashlib.sha256).hexdigest()[:10]


def reply_address(mailbox_address: str, ticket_id: int) -> str:
    local, _, domain = mailbox_address.partition("@")
    return f"{local}+t{ticket_id}-{_signature(ticket_id)}@{domain}"


def ticket_from_address(address: str) -> int | None:
    """The ticket a reply address names, if its signature is right (None for any other address)."""
    match = TOKEN.search(address)
    if match is None:
        return None
    ticket_id = int(match["ticket"])
    return ticket_id if hmac.compare_digest(match["signature"].lower(), _signature(ticket_id)) else None
