"""The customer's writes on the public quote page: the first open (sent → viewed), acceptance and decline.

Everything the customer sees and accepts comes from the revision's frozen snapshot, never the live lines: the
totals for their ticks are recomputed from it with quotes.totals (the same rounding rule as everywhere). Accepting
and declining lock the quote row first, so of a concurrent accept and decline exactly one wins and the other is
told the quote is closed. A refused action raises ValidationError whose code says why: "accepted", "declined",
"expired", "revised" (the quote changed since this link was sent) or a field error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.validation import required_text

from .models import Quote, QuoteAcceptance, QuoteLine, QuoteRevision, QuoteStatus
from .services import quote_status_set
from .totals import Totals, quote_totals

SIGNATURE_PREFIX = "data:image/png;base64,"
SIGNATURE_MAX_BYTES = 64 * 1024  # a drawn name on a small canvas is a few KB; anything bigger is not a signature
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAME_LIMIT = 200
REASON_LIMIT = 300
USER_AGENT_LIMIT = 500
# Why a closed quote refuses the customer's action, by its status.
CLOSED_MESSAGES = {
    QuoteStatus.ACCEPTED: ("accepted", "This quote was already accepted."),
    QuoteStatus.DECLINED: ("declined", "This quote was declined, so it can no longer be accepted."),
    QuoteStatus.EXPIRED: ("expired", "This quote has expired."),
    QuoteStatus.DRAFT: ("revised", "This quote is being updated: a newer version will be sent to you."),
}


# --- Reading the snapshot -----------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotLine:
    """One line of a sent revision, with the customer's tick applied (shaped like quotes.totals.LineLike)."""

    id: int
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    optional: bool
    selected: bool
    net: Decimal
    unit_cost: None = None

    @property
    def is_section(self) -> bool:
        return self.kind == "section"


def revision_sha256(snapshot: Mapping[str, Any]) -> str:
    """The fingerprint of exactly what was sent: sha256 of the snapshot's canonical JSON (sorted keys, compact)."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def optional_line_ids(snapshot: Mapping[str, Any]) -> set[int]:
    return {line["id"] for line in snapshot.get("lines", []) if line.get("optional") and line.get("kind") != "section"}


def sent_selection(snapshot: Mapping[str, Any]) -> set[int]:
    """The optional lines ticked when the quote was sent: what the page starts with."""
    return {line["id"] for line in snapshot.get("lines", []) if line.get("optional") and line.get("selected")}


def snapshot_sheet(snapshot: Mapping[str, Any], selected: Iterable[int]) -> tuple[list[SnapshotLine], Totals]:
    """The revision's lines with `selected` as the ticked optional lines, and their totals."""
    ticked = set(selected)
    lines = [
        SnapshotLine(
            id=row["id"],
            kind=row.get("kind", "item"),
            description=row.get("description", ""),
            quantity=Decimal(row.get("quantity", "0")),
            unit=row.get("unit", ""),
            unit_price=Decimal(row.get("unit_price", "0")),
            discount=Decimal(row.get("discount", "0")),
            tax_rate=Decimal(row.get("tax_rate", "0")),
            optional=bool(row.get("optional")),
            selected=row["id"] in ticked if row.get("optional") else True,
            net=Decimal(row.get("net", "0")),
        )
        for row in snapshot.get("lines", [])
    ]
    return lines, quote_totals(lines, snapshot.get("currency") or "USD")


# --- Writes -------------------------------------------------------------------------------------


def quote_view_record(*, quote: Quote) -> None:
    """The customer opened a sent quote: it becomes viewed, once (later opens and other statuses change nothing)."""
    if quote.status != QuoteStatus.SENT:
        return
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        if locked.status == QuoteStatus.SENT:
            quote_status_set(quote=locked, status=QuoteStatus.VIEWED, actor=None)


def _lock_open(quote: Quote, revision: QuoteRevision) -> Quote:
    """The quote's row, locked; refused when it is closed or changed since `revision` was sent."""
    locked = Quote.objects.select_for_update().get(pk=quote.pk)
    if locked.status in CLOSED_MESSAGES:
        code, message = CLOSED_MESSAGES[locked.status]
        raise ValidationError(message, code=code)
    if locked.revision != revision.number:
        raise ValidationError("A newer version of this quote was sent to you: use the link in that email.", "revised")
    return locked


def signature_clean(value: str | None) -> str:
    """A drawn signature: blank, or a PNG data URL of at most SIGNATURE_MAX_BYTES whose bytes really are a PNG."""
    value = (value or "").strip()
    if not value:
        return ""
    invalid = ValidationError({"signature": "The signature could not be read: clear it and draw it again."})
    if not value.startswith(SIGNATURE_PREFIX) or len(value) > len(SIGNATURE_PREFIX) + SIGNATURE_MAX_BYTES * 4 // 3 + 4:
        raise invalid
    try:
        data = base64.b64decode(value[len(SIGNATURE_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise invalid from None
    if len(data) > SIGNATURE_MAX_BYTES or not data.startswith(PNG_MAGIC):
        raise invalid
    return value


def _address(ip: str | None) -> str | None:
    """The client's address, or None when there is none to record (core.client_ip says "unknown")."""
    try:
        return str(ipaddress.ip_address(ip or ""))
    except ValueError:
        return None


@transaction.atomic
def quote_accept(
    *,
    quote: Quote,
    revision: QuoteRevision,
    name: str,
    terms_accepted: bool,
    selected_line_ids: Iterable[int] = (),
    signature: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> QuoteAcceptance:
    """The customer accepts `revision` with their ticks: recorded (name, time, address, browser, fingerprints), the
    ticks become the quote's, and the quote turns accepted (its lead won) through quote_status_set."""
    quote = _lock_open(quote, revision)
    name = required_text(name, field="name", label="Your full name", limit=NAME_LIMIT)
    signature = signature_clean(signature)
    if not terms_accepted:
        raise ValidationError({"accept_terms": "Tick the box to accept the terms."}, code="terms")
    optional = optional_line_ids(revision.snapshot)
    ticked = sorted(set(selected_line_ids) & optional)
    acceptance = QuoteAcceptance.objects.create(
        quote=quote,
        revision=revision,
        name=name,
        signature=signature,
        at=timezone.now(),
        ip=_address(ip),
        user_agent=(user_agent or "")[:USER_AGENT_LIMIT],
        selected_lines=ticked,
        revision_sha256=revision_sha256(revision.snapshot),
        pdf_sha256=revision.pdf_sha256,
    )
    # The live lines are the sent revision's (any edit would have opened the next one, refused above).
    for selected in (True, False):
        chosen = QuoteLine.objects.filter(quote=quote, optional=True)
        chosen = chosen.filter(pk__in=ticked) if selected else chosen.exclude(pk__in=ticked)
        chosen.update(selected=selected)
    quote_status_set(quote=quote, status=QuoteStatus.ACCEPTED, actor=None, summary=f"Accepted by {name}")
    return acceptance


@transaction.atomic
def quote_decline(*, quote: Quote, revision: QuoteRevision, reason: str) -> Quote:
    """The customer declines `revision`, saying why (at most REASON_LIMIT characters)."""
    quote = _lock_open(quote, revision)
    reason = required_text(reason, field="reason", label="The reason", limit=REASON_LIMIT)
    return quote_status_set(quote=quote, status=QuoteStatus.DECLINED, actor=None, reason=reason)
