"""Leads on the company and contact timelines: created, moved between stages (won and lost apart), activities."""

from __future__ import annotations

import heapq
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse

from customers.contracts import TimelineEntry, TimelineKind, TimelineProvider, TimelineQuery
from customers.facade import timeline_provider_register

from .models import Lead, LeadActivity, LeadStageChange, StageKind

SOURCE = "leads"
KINDS = (
    TimelineKind("lead_created", "Leads opened", "funnel"),
    TimelineKind("lead_stage", "Lead stage changes", "arrow-right-circle"),
    TimelineKind("lead_won", "Leads won", "trophy"),
    TimelineKind("lead_lost", "Leads lost", "x-octagon"),
    TimelineKind("lead_activity", "Lead activities", "calendar-check"),
)
# A stage change's kind follows the stage it reached: won and lost stand out on the timeline (own icon and tone).
STAGE_KINDS = {"lead_stage": StageKind.OPEN, "lead_won": StageKind.WON, "lead_lost": StageKind.LOST}
TONES = {"lead_won": "success", "lead_lost": "danger"}


def _leads(query: TimelineQuery) -> QuerySet[Lead]:
    if query.contact_id is not None:
        return Lead.objects.filter(contact_id=query.contact_id)
    return Lead.objects.filter(customer_id=query.customer_id)


def _page(scoped: QuerySet, query: TimelineQuery, kind: str, at_field: str, fields: tuple[str, ...]) -> list[dict]:
    """The page's rows of one kind: ids picked over the scoped rows alone, then only those joined for names."""
    order = query.order_by(at_field)
    window = query.window_q(source_app=SOURCE, kind=kind, at_field=at_field)
    page = scoped.filter(window).order_by(*order).values("id")[: query.limit]
    return list(scoped.model.objects.filter(id__in=page).order_by(*order).values("id", at_field, *fields))


def _lead_url_format() -> str:
    return reverse("leads:lead_detail", args=[987654321]).replace("987654321", "{}")


def _created_entries(query: TimelineQuery) -> list[TimelineEntry]:
    url = _lead_url_format()
    rows = _page(_leads(query), query, "lead_created", "created", ("title", "value", "currency", "owner__name"))
    return [
        TimelineEntry(
            at=row["created"],
            kind="lead_created",
            id=row["id"],
            title=f"New lead: {row['title']}",
            summary=f"{row['value']:,.2f} {row['currency']}",
            url=url.format(row["id"]),
            actor=row["owner__name"] or "",
            source_app=SOURCE,
        )
        for row in rows
    ]


def _stage_entries(query: TimelineQuery, kind: str) -> list[TimelineEntry]:
    url = _lead_url_format()
    changes = LeadStageChange.objects.filter(
        lead_id__in=_leads(query).order_by().values("id"), from_stage__isnull=False, to_stage__kind=STAGE_KINDS[kind]
    )
    fields = ("lead_id", "lead__title", "from_stage__name", "to_stage__name", "actor__name", "lead__lost_reason")
    rows = _page(changes, query, kind, "at", fields)
    verb = {"lead_won": "Won", "lead_lost": "Lost"}.get(kind, "Moved")
    return [
        TimelineEntry(
            at=row["at"],
            kind=kind,
            id=row["id"],
            title=f"{verb} lead: {row['lead__title']}",
            summary=f"{row['from_stage__name']} → {row['to_stage__name']}"
            + (f" ({row['lead__lost_reason']})" if kind == "lead_lost" and row["lead__lost_reason"] else ""),
            url=url.format(row["lead_id"]),
            actor=row["actor__name"] or "",
            source_app=SOURCE,
            detail={"tone": TONES[kind]} if kind in TONES else None,
        )
        for row in rows
    ]


def _activity_entries(query: TimelineQuery) -> list[TimelineEntry]:
    url = _lead_url_format()
    activities = LeadActivity.objects.filter(lead_id__in=_leads(query).order_by().values("id"))
    fields = ("lead_id", "lead__title", "kind", "subject", "created_by__name")
    rows = _page(activities, query, "lead_activity", "created", fields)
    labels = dict(LeadActivity.Kind.choices)
    return [
        TimelineEntry(
            at=row["created"],
            kind="lead_activity",
            id=row["id"],
            title=f"{labels.get(row['kind'], row['kind'])} on {row['lead__title']}",
            summary=row["subject"],
            url=url.format(row["lead_id"]),
            actor=row["created_by__name"] or "",
            source_app=SOURCE,
        )
        for row in rows
    ]


def timeline_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """A company's (or a person's) leads for customers' timeline: one query per kind asked, newest first.

    Most companies have no lead: one look at the (customer) or (contact) index first spares them the page
    queries of every kind (each of which compiles and runs a subquery of the company's leads)."""
    if not _leads(query).exists():
        return []
    streams = []
    if query.wants("lead_created"):
        streams.append(_created_entries(query))
    streams += [_stage_entries(query, kind) for kind in STAGE_KINDS if query.wants(kind)]
    if query.wants("lead_activity"):
        streams.append(_activity_entries(query))
    return list(heapq.merge(*streams, key=lambda entry: entry.sort_key, reverse=True))[: query.limit]


def active_customers(since: datetime, until: datetime) -> set[int]:
    """Companies with a lead opened, moved (won and lost included) or an activity in [since, until): one query."""
    created = Lead.objects.filter(created__gte=since, created__lt=until).order_by().values_list("customer_id")
    moved = (
        LeadStageChange.objects.filter(at__gte=since, at__lt=until, from_stage__isnull=False)
        .order_by()
        .values_list("lead__customer_id")
    )
    activities = (
        LeadActivity.objects.filter(created__gte=since, created__lt=until).order_by().values_list("lead__customer_id")
    )
    return {customer_id for (customer_id,) in created.union(moved, activities) if customer_id is not None}


def register() -> None:
    timeline_provider_register(
        TimelineProvider(source_app=SOURCE, kinds=KINDS, entries=timeline_entries, active_customers=active_customers)
    )
