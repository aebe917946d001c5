"""What other apps may ask of quotes: the pending quotes of some companies, how answered quotes ended, and the flat
facts insights' rollups count. Reads only; writes stay in quotes.services."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Max, Q

from core.compiled import RowsById

from . import copilot
from .contracts import QuoteBrief, QuoteOutcome, QuoteQuestion, QuoteRollupFact, quotes_changed
from .models import OUT_STATUSES, Quote, QuoteLine, QuoteStatus

__all__ = ["pending_quotes_for_customers", "quote_clarifying_questions", "quote_outcomes", "quotes_waiting"]


def _brief(quote: Quote) -> QuoteBrief:
    return QuoteBrief(
        quote.pk,
        quote.reference,
        quote.title,
        quote.customer_id,
        quote.status,
        quote.total,
        quote.currency,
        quote.get_status_display(),
    )


def pending_quotes_for_customers(*, customer_ids: list[int]) -> list[QuoteBrief]:
    """Draft, sent and viewed quotes of these companies, largest first (one query)."""
    rows = Quote.objects.open().filter(customer_id__in=customer_ids).order_by("-total", "-id")
    return [_brief(quote) for quote in rows]


def quote_outcomes(*, since: datetime) -> list[QuoteOutcome]:
    """Quotes accepted, declined or expired since `since`, with their products and largest discount. Two queries."""
    quotes = list(
        Quote.objects.filter(
            status__in=[QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED], closed_at__gte=since
        )
        .annotate(max_discount=Max("lines__discount"))
        .order_by("closed_at", "id")
    )
    products: dict[int, set[str]] = defaultdict(set)
    lines = QuoteLine.objects.filter(quote_id__in=[quote.pk for quote in quotes], product__isnull=False)
    for quote_id, name in lines.values_list("quote_id", "product__name"):
        products[quote_id].add(name)
    return [
        QuoteOutcome(
            quote.pk,
            quote.reference,
            quote.status,
            quote.decline_reason,
            tuple(sorted(products[quote.pk])),
            quote.max_discount or 0,
            quote.total,
            quote.currency,
            quote.sent_at,
            quote.closed_at,
        )
        for quote in quotes
    ]


def quote_clarifying_questions(*, since: datetime) -> list[QuoteQuestion]:
    """What the copilot would ask the customer on each open quote created or sent since `since` (newest quotes
    first); computed for reports, not recorded as AI runs (quotes.copilot.open_quotes_questions)."""
    return [
        QuoteQuestion(_brief(quote), question.text, question.because)
        for quote, questions in copilot.open_quotes_questions(since=since)
        for question in questions
    ]


def quotes_waiting(*, sent_before: datetime) -> list[QuoteBrief]:
    """Sent or viewed quotes still unanswered that went out before `sent_before`: stalled with the customer."""
    rows = Quote.objects.filter(status__in=OUT_STATUSES, sent_at__lt=sent_before).order_by("sent_at", "id")
    return [_brief(quote) for quote in rows]


__all__ = ["quote_rollup_facts", "quotes_changed"]


# An event's few rows by a statement compiled once (core.compiled): the ORM's compile costs more than the query.
_QUOTE_ROWS = RowsById(Quote, lambda of_ids: Quote.objects.filter(of_ids).values_list(*_ROLLUP_FIELDS))


def quote_rollup_facts(*, ids: Iterable[int] | None = None, since: datetime | None = None) -> Iterator[QuoteRollupFact]:
    """Quotes with `ids`, or (`since`) every quote created, changed, sent or closed since then; all without either.
    One query, read in chunks."""
    if ids is not None and since is None:
        rows: Iterable[tuple] = _QUOTE_ROWS(list(ids))
    else:
        quotes = Quote.objects.order_by()
        if ids is not None:
            quotes = quotes.filter(pk__in=list(ids))
        if since is not None:
            quotes = quotes.filter(
                Q(created__gte=since) | Q(updated__gte=since) | Q(sent_at__gte=since) | Q(closed_at__gte=since)
            )
        rows = quotes.values_list(*_ROLLUP_FIELDS).iterator(chunk_size=5000)
    for pk, created, owner, currency, total, status, sent, closed in rows:
        yield QuoteRollupFact(pk, created, owner, currency, int((total or 0) * 100), status, sent, closed)


_ROLLUP_FIELDS = ("id", "created", "owner_id", "currency", "total", "status", "sent_at", "closed_at")


# --- automation ---
# What automation rules test of a quote (automation/sources.py).


def quote_automation_fields() -> list[dict]:
    def field(name: str, label: str, kind: str, choices=()) -> dict:
        return {"name": name, "label": label, "kind": kind, "choices": list(choices), "ai": False}

    return [
        field("status", "Status", "choice", [(v, str(label)) for v, label in QuoteStatus.choices]),
        field("title", "Title", "text"),
        field("total", "Total", "number"),
        field("currency", "Currency", "text"),
        field("owner", "Owner", "user"),
        field("decline_reason", "Decline reason", "text"),
    ]


def quote_automation_values(ids: Iterable[int], *, now: datetime | None = None) -> dict[int, dict]:
    rows = Quote.objects.filter(pk__in=list(ids)).values_list(
        "pk", "status", "title", "total", "currency", "owner_id", "decline_reason"
    )
    return {
        pk: {
            "status": status,
            "title": title,
            "total": total,
            "currency": currency,
            "owner": "" if owner is None else str(owner),
            "decline_reason": reason,
        }
        for pk, status, title, total, currency, owner, reason in rows
    }


def quotes_recent_ids(*, limit: int = 50) -> list[int]:
    return list(Quote.objects.order_by("-updated", "-id").values_list("pk", flat=True)[: max(1, int(limit))])
