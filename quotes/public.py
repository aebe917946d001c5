"""The customer's link to a sent quote: an expiring signed token, valid only on the workspace that signed it.

The token names the quote and the revision it was sent as, signed with a salt that includes the workspace's
schema, so a token from one workspace is refused on every other workspace's host. It stops working
QUOTE_LINK_GRACE_DAYS after the quote's validity date (or QUOTE_LINK_MAX_AGE_DAYS after it was signed, whichever
comes first); a refused link says why ("invalid", "expired", "revised").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import connection
from django.utils import timezone

from core.links import workspace_url

from .models import Quote, QuoteRevision

TOKEN_SALT = "quotes.public"
# Where quotes/urls_public.py is mounted (config/urls/tenant.py); a test checks the two agree.
PUBLIC_PATH = "/q/{token}/"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"{TOKEN_SALT}:{connection.schema_name}")


def quote_token_make(*, quote: Quote, revision: int | None = None) -> str:
    """A token for `quote` as sent in `revision` (its current one by default), stamped now."""
    return _signer().sign_object([quote.pk, quote.number, revision or quote.revision])


def quote_public_url(*, quote: Quote, revision: int | None = None) -> str:
    """The absolute link emailed to the customer, on this workspace's own host."""
    token = quote_token_make(quote=quote, revision=revision)
    return workspace_url(PUBLIC_PATH.format(token=token))


@dataclass(frozen=True)
class QuoteLink:
    """What a public link opens: the quote and the revision it was sent as, or why not."""

    quote: Quote | None
    revision: QuoteRevision | None = None
    refused: str = ""  # "invalid", "expired" or "revised" (a newer revision was sent since)
    reference: str = ""


def quote_link_open(token: str, *, today: datetime.date | None = None) -> QuoteLink:
    """The quote a token names; refused when forged, truncated, from another workspace, for a deleted quote or a
    revision never sent ("invalid"), too old or past the quote's validity ("expired"), or superseded by a newer
    sent revision ("revised")."""
    max_age = datetime.timedelta(days=settings.QUOTE_LINK_MAX_AGE_DAYS)
    expired = False
    try:
        payload = _signer().unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        payload, expired = _signer().unsign_object(token), True
    except (signing.BadSignature, ValueError, TypeError):
        return QuoteLink(quote=None, refused="invalid")
    if not (isinstance(payload, list) and len(payload) == 3 and all(type(part) is int for part in payload)):
        return QuoteLink(quote=None, refused="invalid")
    quote_id, number, revision_number = payload
    quote = Quote.objects.filter(pk=quote_id, number=number).first()
    revision = QuoteRevision.objects.filter(quote=quote, number=revision_number).first() if quote else None
    if quote is None or revision is None:
        return QuoteLink(quote=None, refused="invalid")
    today = today or timezone.localdate()
    grace = datetime.timedelta(days=settings.QUOTE_LINK_GRACE_DAYS)
    past_validity = quote.valid_until is not None and today > quote.valid_until + grace
    if expired or past_validity:
        return QuoteLink(quote=None, refused="expired", reference=quote.reference)
    newer_sent = QuoteRevision.objects.filter(quote=quote, number__gt=revision_number).exists()
    if newer_sent:
        return QuoteLink(quote=None, refused="revised", reference=quote.reference)
    return QuoteLink(quote=quote, revision=revision)
