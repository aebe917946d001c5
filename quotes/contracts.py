"""What other apps exchange with quotes: plain data handed out through quotes.facade (pending quotes, how answered
quotes ended, what insights' rollups count of a quote) and the signal telling them a quote changed. Frozen dataclasses
and signals only: other apps import this and `quotes.facade`, never models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.dispatch import Signal


@dataclass(frozen=True)
class QuoteBrief:
    id: int
    reference: str
    title: str
    customer_id: int | None
    status: str
    total: Decimal
    currency: str
    status_label: str = ""


@dataclass(frozen=True)
class QuoteOutcome:
    """A quote that was answered (accepted or declined) or expired: what it offered and how it ended."""

    id: int
    reference: str
    status: str
    decline_reason: str
    products: tuple[str, ...]
    max_discount: Decimal  # the largest line discount, in percent
    total: Decimal
    currency: str
    sent_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class QuoteQuestion:
    """A question the quote copilot would ask the customer about an open quote, and why (quotes.copilot)."""

    quote: QuoteBrief
    text: str
    because: str


# Sent with `ids=(quote id, …)` inside the writer's transaction when a quote changes something insights counts.
quotes_changed = Signal()


@dataclass(frozen=True)
class QuoteRollupFact:
    """What insights' rollups count of one quote, as it is now (quotes.facade.quote_rollup_facts)."""

    id: int
    created: datetime
    owner_id: int | None
    currency: str
    total_cents: int
    status: str  # draft, sent, viewed, accepted, declined, expired
    sent_at: datetime | None
    closed_at: datetime | None


# --- automation ---
# Sent after the change commits with `event` (one of AUTOMATION_EVENTS), `object_id` (the quote's id) and
# `changed` (the names of the fields that changed): automation rules listen (automation.receivers).
automation_event = Signal()
QUOTE_SENT = "quote.sent"
QUOTE_ACCEPTED = "quote.accepted"
QUOTE_DECLINED = "quote.declined"
AUTOMATION_EVENTS = (QUOTE_SENT, QUOTE_ACCEPTED, QUOTE_DECLINED)
