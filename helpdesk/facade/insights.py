"""Batched reads for trend detection and churn signals (insights): tickets in a window, their topic texts, the
sentiment of each company's latest tickets, cancellation language. Merged tickets count through the one they
were merged into, as in the health reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count, Q

from ..contracts import TicketDimensions, TicketMention, TicketPoint
from ..models import Ticket
from ..selectors.ticket_ai import MAX_ANALYSIS_CHARS
from ..selectors.tickets import _menu_rows

TOPIC_SOURCE = "insights.ticket"  # every ticket's topic in the vector index, whatever its status (insights)


def _window(since: datetime, until: datetime):
    return Ticket.objects.filter(created__gte=since, created__lt=until, merged_into__isnull=True)


def ticket_points(*, since: datetime, until: datetime) -> list[TicketPoint]:
    """Every ticket opened in [since, until), oldest first. One query, no text but the subject."""
    rows = _window(since, until).order_by("created", "id").values_list("id", "created", "customer_id", "subject")
    return [TicketPoint(*row) for row in rows.iterator(chunk_size=5000)]


def ticket_topic_texts(ids: Sequence[int]) -> dict[int, str]:
    """What a ticket is about, for embedding and keywords: subject and (improved) description."""
    rows = Ticket.objects.filter(pk__in=list(ids)).values_list(
        "pk", "subject", "original_description", "improved_description"
    )
    return {pk: f"{subject}\n\n{improved or original}"[:MAX_ANALYSIS_CHARS] for pk, subject, original, improved in rows}


def ticket_ids_in_window(*, since: datetime, until: datetime) -> list[int]:
    return list(_window(since, until).order_by("id").values_list("id", flat=True))


def customer_sentiment_sequences(*, since: datetime, until: datetime) -> dict[int, list[tuple[int, str]]]:
    """{customer id: [(ticket id, sentiment), …] newest first} of the analysed tickets opened in the window."""
    rows = (
        _window(since, until)
        .exclude(sentiment="")
        .order_by("customer_id", "-created", "-id")
        .values_list("customer_id", "id", "sentiment")
    )
    sequences: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for customer_id, ticket_id, sentiment in rows:
        sequences[customer_id].append((ticket_id, sentiment))
    return dict(sequences)


def ticket_mentions(*, since: datetime, until: datetime, pattern: str, limit: int = 500) -> list[TicketMention]:
    """Tickets opened in the window whose subject or original description matches the PostgreSQL regular
    expression `pattern` (case-insensitive), newest first, with the phrase that matched."""
    import re

    compiled = re.compile(pattern, re.IGNORECASE)
    rows = (
        _window(since, until)
        .filter(Q(original_description__iregex=pattern) | Q(subject__iregex=pattern))
        .order_by("-created", "-id")
        .values_list("id", "customer_id", "subject", "created", "original_description")[:limit]
    )
    mentions = []
    for ticket_id, customer_id, subject, created, description in rows:
        found = compiled.search(f"{subject}\n{description}")
        mentions.append(TicketMention(ticket_id, customer_id, subject, created, found.group(0) if found else ""))
    return mentions


def ticket_category_counts(*, since: datetime, until: datetime) -> dict[str, int]:
    """{category name ("Uncategorised" for none): tickets opened in the window}."""
    rows = _window(since, until).values("category__name").annotate(n=Count("id")).order_by()
    return {row["category__name"] or "Uncategorised": row["n"] for row in rows}


def ticket_brief_rows(ids: Sequence[int]) -> list[tuple[int, str, int, str]]:
    """(id, subject, customer id, status as people read it) of those tickets, newest first."""
    rows = Ticket.objects.filter(pk__in=list(ids)).order_by("-created", "-id")
    labels = dict(Ticket.Status.choices)
    return [
        (pk, subject, customer_id, labels.get(status, status))
        for pk, subject, customer_id, status in rows.values_list("id", "subject", "customer_id", "status")
    ]


def ticket_dimensions() -> TicketDimensions:
    """Agents, teams and categories by name (one query), channels and priorities in their order."""
    names: dict[str, dict[int, str]] = {"agent": {}, "team": {}, "category": {}}
    for kind, pk, name in _menu_rows():
        names[kind][pk] = name
    return TicketDimensions(
        agents=names["agent"],
        teams=names["team"],
        categories=names["category"],
        channels=dict(Ticket.Channel.choices),
        priorities=dict(Ticket.Priority.choices),
    )
