"""Mail forwarded to us by webhook (Mailbox kind "forward"): each mailbox gets a URL token and a signing secret;
the provider POSTs the raw RFC 822 message, signed like our outbound webhooks (docs/webhooks.md)."""

from __future__ import annotations

import secrets

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
    return inbound_receive(raw=raw, source=InboundEmail.Source.WEBHOOK, mailbox=mailbox)
