"""What other apps exchange with quotes: for now what insights' rollups count of a quote, and the signal telling
them a quote changed. Frozen dataclasses and signals only: other apps import this and `quotes.facade`, never models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

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
