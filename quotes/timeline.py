"""Quotes on the company and contact timelines: created, edited, new revisions and status changes (accepted and
declined stand out)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.urls import reverse

from customers.contracts import TimelineEntry, TimelineKind, TimelineProvider, TimelineQuery
from customers.facade import timeline_provider_register

from .models import EventKind, QuoteEvent, QuoteStatus

SOURCE = "quotes"
KINDS = (
    TimelineKind("quote_created", "Quotes created", "file-earmark-plus"),
    TimelineKind("quote_changed", "Quote edits and revisions", "pencil-square"),
    TimelineKind("quote_status", "Quote status changes", "send"),
)
EVENT_KINDS = {
    "quote_created": (EventKind.CREATED,),
    "quote_changed": (EventKind.EDITED, EventKind.REVISED),
    "quote_status": (EventKind.STATUS,),
}
TONES = {QuoteStatus.ACCEPTED: "success", QuoteStatus.DECLINED: "danger", QuoteStatus.EXPIRED: "warning"}
FIELDS = (
    "id", "at", "kind", "from_status", "to_status", "summary", "changes", "revision", "actor__name",
    "quote_id", "quote__number", "quote__title",
)  # fmt: skip


def _events(query: TimelineQuery, timeline_kind: str) -> list[dict]:
    scope = (
        Q(quote__contact_id=query.contact_id)
        if query.contact_id is not None
        else Q(quote__customer_id=query.customer_id)
    )
    events = QuoteEvent.objects.filter(scope, kind__in=EVENT_KINDS[timeline_kind])
    window = query.window_q(source_app=SOURCE, kind=timeline_kind, at_field="at")
    page = events.filter(window).order_by(*query.order_by("at")).values("id")[: query.limit]
    return list(QuoteEvent.objects.filter(id__in=page).order_by(*query.order_by("at")).values(*FIELDS))


def _title(row: dict) -> str:
    reference = f"Q-{row['quote__number']:05d}"
    labels = dict(QuoteStatus.choices)
    if row["kind"] == EventKind.CREATED:
        return f"New quote {reference}: {row['quote__title']}"
    if row["kind"] == EventKind.STATUS:
        return f"Quote {reference} {labels.get(row['to_status'], row['to_status']).lower()}"
    if row["kind"] == EventKind.REVISED:
        return f"Quote {reference}: revision {row['revision']}"
    return f"Quote {reference} edited" + (f" ({row['changes']} changes)" if row["changes"] > 1 else "")


def timeline_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """A company's (or a person's) quote events for customers' timeline: one query per kind asked, newest first."""
    url = reverse("quotes:quote_detail", args=[987654321]).replace("987654321", "{}")
    entries = []
    for timeline_kind in EVENT_KINDS:
        if not query.wants(timeline_kind):
            continue
        for row in _events(query, timeline_kind):
            tone = TONES.get(row["to_status"]) if row["kind"] == EventKind.STATUS else None
            entries.append(
                TimelineEntry(
                    at=row["at"],
                    kind=timeline_kind,
                    id=row["id"],
                    title=_title(row),
                    summary=row["summary"],
                    url=url.format(row["quote_id"]),
                    actor=row["actor__name"] or "",
                    source_app=SOURCE,
                    detail={"tone": tone} if tone else None,
                )
            )
    return sorted(entries, key=lambda entry: entry.sort_key, reverse=True)[: query.limit]


def active_customers(since: datetime, until: datetime) -> set[int]:
    """Companies with a quote event in [since, until), for the daily summaries: one query."""
    events = QuoteEvent.objects.filter(at__gte=since, at__lt=until, quote__customer_id__isnull=False)
    return set(events.order_by().values_list("quote__customer_id", flat=True).distinct())


def register() -> None:
    timeline_provider_register(
        TimelineProvider(source_app=SOURCE, kinds=KINDS, entries=timeline_entries, active_customers=active_customers)
    )
