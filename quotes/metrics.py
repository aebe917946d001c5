"""Quote metrics for a period: cycle time (created → answer and sent → answer, median and p90 in days) and win rate
(accepted / (accepted + declined + expired)), for the workspace and per owner. Shown on the pipeline metrics page
(registered with leads) and as a strip on the quote list. Aggregated in SQL: two queries whatever the number of quotes.

A quote counts in the period it was closed (`closed_at`): answered (accepted, declined) or expired. Cycle times are
the answered quotes' only: an expiry is the absence of an answer, its "cycle" is the validity the seller chose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet
from django.utils import timezone

from .models import Quote, QuoteStatus

PERIODS = {30: "Last 30 days", 90: "Last 90 days", 180: "Last 6 months", 365: "Last 12 months"}
DEFAULT_PERIOD = 90
ANSWERED = (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED)


class PercentileDays(Aggregate):
    """PostgreSQL's continuous percentile of a duration, in days (`share` 0.5 is the median)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(share)s) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s) / 86400.0)"
    output_field = FloatField()

    def __init__(self, expression, *, share: float, **extra):
        super().__init__(expression, share=float(share), **extra)


@dataclass(frozen=True)
class CycleTime:
    median_days: float | None
    p90_days: float | None
    count: int

    @property
    def known(self) -> bool:
        return self.count > 0


@dataclass(frozen=True)
class OwnerQuoteMetrics:
    owner_id: int | None
    label: str
    accepted: int
    declined: int
    expired: int
    win_rate: float | None
    created_to_answer: CycleTime
    sent_to_answer: CycleTime

    @property
    def closed(self) -> int:
        return self.accepted + self.declined + self.expired


@dataclass(frozen=True)
class QuoteMetrics:
    days: int
    since: datetime
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    win_rate: float | None = None
    created_to_answer: CycleTime = CycleTime(None, None, 0)
    sent_to_answer: CycleTime = CycleTime(None, None, 0)
    by_owner: list[OwnerQuoteMetrics] = field(default_factory=list)

    @property
    def closed(self) -> int:
        return self.accepted + self.declined + self.expired


def _figures() -> dict[str, Aggregate]:
    answered = Q(status__in=ANSWERED)
    sent_answered = answered & Q(sent_at__isnull=False)
    created_cycle, sent_cycle = F("closed_at") - F("created"), F("closed_at") - F("sent_at")
    return {
        "accepted": Count("id", filter=Q(status=QuoteStatus.ACCEPTED)),
        "declined": Count("id", filter=Q(status=QuoteStatus.DECLINED)),
        "expired": Count("id", filter=Q(status=QuoteStatus.EXPIRED)),
        "answered": Count("id", filter=answered),
        "sent_answered": Count("id", filter=sent_answered),
        "created_p50": PercentileDays(created_cycle, share=0.5, filter=answered),
        "created_p90": PercentileDays(created_cycle, share=0.9, filter=answered),
        "sent_p50": PercentileDays(sent_cycle, share=0.5, filter=sent_answered),
        "sent_p90": PercentileDays(sent_cycle, share=0.9, filter=sent_answered),
    }


def _win_rate(row: dict) -> float | None:
    closed = row["accepted"] + row["declined"] + row["expired"]
    return row["accepted"] / closed if closed else None


def _cycles(row: dict) -> dict[str, CycleTime]:
    return {
        "created_to_answer": CycleTime(row["created_p50"], row["created_p90"], row["answered"]),
        "sent_to_answer": CycleTime(row["sent_p50"], row["sent_p90"], row["sent_answered"]),
    }


def closed_quotes(*, since: datetime, until: datetime | None = None) -> QuerySet[Quote]:
    """Quotes answered or expired from `since` (to `until`)."""
    quotes = Quote.objects.filter(status__in=[*ANSWERED, QuoteStatus.EXPIRED], closed_at__gte=since)
    return quotes.filter(closed_at__lte=until) if until is not None else quotes


def quote_metrics(*, days: int = DEFAULT_PERIOD, now: datetime | None = None) -> QuoteMetrics:
    """The workspace's quote figures over the last `days` and each owner's, best win rate first (two queries)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    quotes = closed_quotes(since=since, until=now)
    overall = quotes.aggregate(**_figures())
    rows = quotes.values("owner_id", "owner__name", "owner__email").annotate(**_figures()).order_by()
    by_owner = [
        OwnerQuoteMetrics(
            owner_id=row["owner_id"],
            label=row["owner__name"] or row["owner__email"] or "Unassigned",
            accepted=row["accepted"],
            declined=row["declined"],
            expired=row["expired"],
            win_rate=_win_rate(row),
            **_cycles(row),
        )
        for row in rows
    ]
    by_owner.sort(key=lambda owner: (-(owner.win_rate or 0), -owner.closed, owner.label))
    return QuoteMetrics(
        days=days,
        since=since,
        accepted=overall["accepted"],
        declined=overall["declined"],
        expired=overall["expired"],
        win_rate=_win_rate(overall),
        by_owner=by_owner,
        **_cycles(overall),
    )
