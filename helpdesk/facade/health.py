"""Batched reads for customers' health score (customers/health.py)."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Ticket

# --- customer health ---
# Batched reads for customers' health score (customers/health.py): each call answers for a whole batch of companies
# in one aggregate query, so the job's statements do not grow with the number of companies. Windows are half-open,
# [start, at): `at` may be in the past (the history backfill). Tickets merged into another count through that one.


def _health_tickets(customer_ids: Sequence[int], at):
    return Ticket.objects.filter(customer_id__in=list(customer_ids), merged_into__isnull=True, created__lt=at)


def customer_ticket_volumes(customer_ids: Sequence[int], *, at, recent_days: int, baseline_days: int) -> dict:
    """{customer id: TicketVolume}: tickets opened in the last `recent_days` and in the `baseline_days` before."""
    from datetime import timedelta

    from django.db.models import Count, Q

    from ..contracts import TicketVolume

    recent_start = at - timedelta(days=recent_days)
    rows = (
        _health_tickets(customer_ids, at)
        .filter(created__gte=recent_start - timedelta(days=baseline_days))
        .values("customer_id")
        .annotate(
            recent=Count("id", filter=Q(created__gte=recent_start)),
            baseline=Count("id", filter=Q(created__lt=recent_start)),
        )
        .order_by()
    )
    return {row["customer_id"]: TicketVolume(recent=row["recent"], baseline=row["baseline"]) for row in rows}


def customer_sentiment_counts(customer_ids: Sequence[int], *, at, recent_days: int, baseline_days: int) -> dict:
    """{customer id: SentimentCounts}: tickets the AI analysis found positive, neutral or negative (the customer's
    tone, Ticket.sentiment), opened in the recent window and in the baseline before it. Unanalysed ones are left out."""
    from datetime import timedelta

    from django.db.models import Count, Q

    from ..contracts import SentimentCounts

    recent_start = at - timedelta(days=recent_days)
    windows = {"recent": Q(created__gte=recent_start), "baseline": Q(created__lt=recent_start)}
    counts = {
        f"{window}_{label}": Count("id", filter=when & Q(sentiment=label))
        for window, when in windows.items()
        for label in ("positive", "neutral", "negative")
    }
    rows = (
        _health_tickets(customer_ids, at)
        .filter(
            created__gte=recent_start - timedelta(days=baseline_days), sentiment__in=("positive", "neutral", "negative")
        )
        .values("customer_id")
        .annotate(**counts)
        .order_by()
    )
    return {row.pop("customer_id"): SentimentCounts(**row) for row in rows}


def customer_sla_breaches(customer_ids: Sequence[int], *, at, days: int) -> dict[int, int]:
    """{customer id: tickets that breached an SLA target in the last `days`} (each ticket once)."""
    from datetime import timedelta

    from django.db.models import Count

    from ..models import TicketEvent

    rows = (
        TicketEvent.objects.filter(
            kind=TicketEvent.Kind.SLA_BREACHED,
            created__gte=at - timedelta(days=days),
            created__lt=at,
            ticket__customer_id__in=list(customer_ids),
        )
        .values("ticket__customer_id")
        .annotate(breached=Count("ticket_id", distinct=True))
        .order_by()
    )
    return {row["ticket__customer_id"]: row["breached"] for row in rows}


def customer_csat(customer_ids: Sequence[int], *, at, days: int) -> dict:
    """{customer id: CsatSummary} of the satisfaction surveys answered in the last `days`."""
    from datetime import timedelta

    from django.db.models import Avg, Count

    from ..contracts import CsatSummary
    from ..models import SatisfactionSurvey

    rows = (
        SatisfactionSurvey.objects.filter(
            rating__isnull=False,
            answered_at__gte=at - timedelta(days=days),
            answered_at__lt=at,
            ticket__customer_id__in=list(customer_ids),
        )
        .values("ticket__customer_id")
        .annotate(answers=Count("id"), average=Avg("rating"))
        .order_by()
    )
    return {row["ticket__customer_id"]: CsatSummary(row["answers"], float(row["average"])) for row in rows}


def customer_open_urgent(customer_ids: Sequence[int], *, at) -> dict[int, int]:
    """{customer id: urgent tickets open at `at`} (opened before, not solved nor closed by then)."""
    from django.db.models import Count, Q

    still_open = (Q(solved_at__isnull=True) | Q(solved_at__gte=at)) & (Q(closed_at__isnull=True) | Q(closed_at__gte=at))
    rows = (
        _health_tickets(customer_ids, at)
        .filter(still_open, priority=Ticket.Priority.URGENT)
        .values("customer_id")
        .annotate(urgent=Count("id"))
        .order_by()
    )
    return {row["customer_id"]: row["urgent"] for row in rows}


def customer_last_contact(customer_ids: Sequence[int], *, at) -> dict:
    """{customer id: the latest moment before `at` one of its tickets was opened or got a message from either side}.

    From the tickets' own columns, not the messages table: one row per ticket. Seen from the past (the backfill), a
    ticket whose latest message came after `at` counts from its opening only; that errs towards "longer ago"."""
    from django.db.models import Max, Q

    rows = (
        _health_tickets(customer_ids, at)
        .values("customer_id")
        .annotate(
            opened=Max("created"),
            customer_wrote=Max("last_customer_message_at", filter=Q(last_customer_message_at__lt=at)),
            agent_wrote=Max("last_agent_message_at", filter=Q(last_agent_message_at__lt=at)),
        )
        .order_by()
    )
    return {
        row["customer_id"]: max(
            moment for moment in (row["opened"], row["customer_wrote"], row["agent_wrote"]) if moment
        )
        for row in rows
    }
