"""Mail forwarded to us (Mailbox kind "forward"), two ways: a provider that forwards by webhook POSTs the raw RFC 822
message to the mailbox's URL token, signed like our outbound webhooks (docs/webhooks.md); a mail provider that
forwards by email sends it to the mailbox's forwarding address, which inbox/smtp_receiver.py receives by SMTP."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from ..models import InboundEmail, Mailbox
from .inbound import inbound_receive
from .webhooks import signature_valid

TOKEN_KEY = "webhook_token"  # in Mailbox.settings: it is in the URL, so not a secret
SECRET_KEY = "webhook_secret"  # in Mailbox.secrets(), encrypted
RATE_PER_MINUTE = 600


class SignatureInvalid(Exception):
    """The request is not signed with the mailbox's secret, or the signature is older than five minutes."""


@transaction.atomic
def mailbox_forwarding_enable(*, mailbox: Mailbox) -> str:
    """Gives the mailbox a URL token (kept if it has one) and a new signing secret; returns the secret, shown once."""
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    mailbox.settings = {**mailbox.settings, TOKEN_KEY: mailbox.settings.get(TOKEN_KEY) or secrets.token_urlsafe(24)}
    mailbox.secrets_set({**mailbox.secrets(), SECRET_KEY: secret})
    mailbox.save(update_fields=["settings", "secrets_encrypted"])
    return secret


def forwarding_mailbox(token: str) -> Mailbox | None:
    if not token:
        return None
    return Mailbox.objects.filter(kind=Mailbox.Kind.FORWARD, active=True, **{f"settings__{TOKEN_KEY}": token}).first()


def forwarding_rate_allows(token: str, *, window: int) -> bool:
    """At most RATE_PER_MINUTE messages a minute per mailbox (the cache key is the workspace's own)."""
    key = f"inbox-forward:{token}:{window}"
    if cache.add(key, 1, timeout=70):
        return True
    try:
        return cache.incr(key) <= RATE_PER_MINUTE
    except ValueError:
        return True


def forwarded_mail_receive(*, mailbox: Mailbox, raw: bytes, signature: str) -> tuple[InboundEmail, bool]:
    """Checks the signature, then stores the message (inbox.services.inbound); (record, created)."""
    secret = mailbox.secrets().get(SECRET_KEY, "")
    if not secret or not signature_valid(secret, raw, signature):
        raise SignatureInvalid("The signature does not match this mailbox's secret, or it is older than 5 minutes.")
    return inbound_receive(raw=raw, source=InboundEmail.Source.WEBHOOK, mailbox=mailbox, coalesce=True)


# --- By SMTP, to the forwarding address (inbox/smtp_receiver.py) ------------------------------------------------


def forwarding_smtp_mailbox(mailbox_id: int) -> Mailbox | None:
    """The active forwarding mailbox that a forwarding address names, in the current workspace."""
    return Mailbox.objects.filter(pk=mailbox_id, kind=Mailbox.Kind.FORWARD, active=True).first()


def forwarding_smtp_rate_allows(mailbox: Mailbox, *, window: int) -> bool:
    return forwarding_rate_allows(f"smtp-{mailbox.pk}", window=window)


def forwarded_smtp_receive(*, mailbox: Mailbox, raw: bytes, mail_from: str, peer: str) -> tuple[InboundEmail, bool]:
    """Stores a message the forwarding address received, with the trace lines a receiving server adds (RFC 5321
    4.4): the envelope sender and the client it came from. An internationalised sender (SMTPUTF8) stays UTF-8, as
    the message's own headers are then."""
    sender, peer = (_header_safe(value) for value in (mail_from, peer))
    trace = f"Return-Path: <{sender}>\r\nReceived: from {peer} by {settings.INBOX_FORWARD_DOMAIN} with SMTP\r\n"
    return inbound_receive(
        raw=trace.encode("utf-8") + raw, source=InboundEmail.Source.SMTP, mailbox=mailbox, coalesce=True
    )


def _header_safe(value: str) -> str:
    return "".join(character for character in value if character.isprintable() and character not in "<>")[:254]
