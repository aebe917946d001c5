"""Per-ticket reply addresses: `support+t123-<signature>@example.com`. A customer's answer to one of our emails
comes back to this address, which names its ticket; the signature (HMAC with the deployment's secret, salted with
the workspace's schema) means nobody can file mail on a ticket by guessing its number.

Per-message bounce addresses (VERP): each email goes out with the envelope sender (Return-Path)
`support+b<outbound id>-<signature>@example.com`. A receiving server's delivery report goes to that address, so
the report names the message it is about by the address it came to, even when its body quotes no Message-ID."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.db import connection

TOKEN = re.compile(r"\+t(?P<ticket>\d{1,12})-(?P<signature>[0-9a-z]{10})@", re.IGNORECASE)
BOUNCE_TOKEN = re.compile(r"\+b(?P<outbound>\d{1,12})-(?P<signature>[0-9a-z]{10})@", re.IGNORECASE)


def _signature(ticket_id: int, purpose: str = "inbox.reply-address") -> str:
    key = f"{purpose}:{connection.schema_name}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, str(ticket_id).encode(), hashlib.sha256).hexdigest()[:10]


def bounce_address(sender_address: str, outbound_id: int) -> str:
    """The envelope sender of one outbound email: the sender's address, plus-tagged with its signed id."""
    local, _, domain = sender_address.partition("@")
    local = local.split("+", 1)[0]
    return f"{local}+b{outbound_id}-{_signature(outbound_id, 'inbox.bounce-address')}@{domain}"


def outbound_from_bounce_address(address: str) -> int | None:
    """The outbound email a bounce address names, if its signature is right (None for any other address)."""
    match = BOUNCE_TOKEN.search(address)
    if match is None:
        return None
    outbound_id = int(match["outbound"])
    expected = _signature(outbound_id, "inbox.bounce-address")
    return outbound_id if hmac.compare_digest(match["signature"].lower(), expected) else None


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
