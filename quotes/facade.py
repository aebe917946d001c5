"""What other apps may ask of quotes: for now the flat facts insights' rollups count (read-only)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q

from .contracts import QuoteRollupFact, quotes_changed
from .models import Quote

__all__ = ["quote_rollup_facts", "quotes_changed"]


def quote_rollup_facts(*, ids: Iterable[int] | None = None, since: datetime | None = None) -> Iterator[QuoteRollupFact]:
    """Quotes with `ids`, or (`since`) every quote created, changed, sent or closed since then; all without either.
    One query, read in chunks."""
    quotes = Quote.objects.order_by()
    if ids is not None:
        quotes = quotes.filter(pk__in=list(ids))
    if since is not None:
        quotes = quotes.filter(
            Q(created__gte=since) | Q(updated__gte=since) | Q(sent_at__gte=since) | Q(closed_at__gte=since)
        )
    fields = ("id", "created", "owner_id", "currency", "total", "status", "sent_at", "closed_at")
    rows = quotes.values_list(*fields)
    for pk, created, owner, currency, total, status, sent, closed in (
        rows.iterator(chunk_size=5000) if ids is None else rows  # an event's few rows in one round trip
    ):
        yield QuoteRollupFact(pk, created, owner, currency, int((total or 0) * 100), status, sent, closed)
