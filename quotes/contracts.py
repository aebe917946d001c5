"""Plain data quotes hands to other apps through quotes.facade (never its models)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class QuoteBrief:
    id: int
    reference: str
    title: str
    customer_id: int | None
    status: str
    total: Decimal
    currency: str


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
