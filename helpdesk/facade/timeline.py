"""The helpdesk's entries on the customer timeline (customers/timeline.py): tickets opened and solved, public
messages and CSAT answers, keyset-paged per company or per person."""

from __future__ import annotations

import heapq
from datetime import datetime

from django.db.models import BooleanField, F, Func, Q, Subquery
from django.urls import reverse

from customers.contracts import TimelineEntry, TimelineKind, TimelineProvider, TimelineQuery
from customers.facade import timeline_provider_register as timeline_provider_register_with_customers

from ..models import SatisfactionSurvey, Ticket, TicketMessage

# --- customer timeline ---

TIMELINE_SOURCE = "helpdesk"
TIMELINE_KINDS = (
    TimelineKind("ticket_opened", "Tickets opened", "ticket-perforated"),
    TimelineKind("ticket_solved", "Tickets solved", "check-circle"),
    TimelineKind("message_customer", "Customer messages", "chat-left-text"),
    TimelineKind("message_agent", "Agent replies", "reply"),
    TimelineKind("csat", "CSAT answers", "star"),
)
TIMELINE_SUMMARY_CHARS = 280


def _ticket_scope(query: TimelineQuery) -> dict[str, int]:
    """Tickets of the company, or those the person asked (their messages and surveys follow the ticket)."""
    if query.contact_id is not None:
        return {"requester_id": query.contact_id}
    return {"customer_id": query.customer_id}


class _OnTickets(Func):
    """`ticket_id = ANY(ARRAY(SELECT id FROM the tickets))`. PostgreSQL then probes the partial message (or
    survey) index once per ticket of the company; as a join (`ticket__customer_id=`) it hashed every public
    message of the workspace to find the company's few: 25 ms instead of 3 at 60,000 messages."""

    arg_joiner = " = ANY(ARRAY("
    template = "%(expressions)s))"
    output_field = BooleanField()


def _on_tickets(query: TimelineQuery) -> _OnTickets:
    tickets = Ticket.objects.filter(**_ticket_scope(query)).order_by().values("id")
    return _OnTickets(F("ticket_id"), Subquery(tickets))


def _timeline_rows(scoped, query: TimelineQuery, kind: str, at_field: str, fields: tuple[str, ...]) -> list[dict]:
    """The page's rows of one kind. The page is chosen by ids alone (an inner LIMIT over the scoped rows, no
    joins), then only those rows are joined for names: joining first made PostgreSQL hash every message."""
    window = query.window_q(source_app=TIMELINE_SOURCE, kind=kind, at_field=at_field)
    order = query.order_by(at_field)
    page = scoped.filter(window).order_by(*order).values("id")[: query.limit]
    return list(scoped.model.objects.filter(id__in=page).order_by(*order).values("id", at_field, *fields))


def _ticket_url_format() -> str:
    """The ticket page's path with a `{}` for the id: one reverse() per page instead of one per entry."""
    return reverse("tickets:ticket_detail", args=[987654321]).replace("987654321", "{}")


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TIMELINE_SUMMARY_CHARS else text[: TIMELINE_SUMMARY_CHARS - 1] + "…"


def _ticket_entries(query: TimelineQuery, kind: str) -> list[TimelineEntry]:
    opened = kind == "ticket_opened"
    at_field = "created" if opened else "solved_at"
    actor_field = "requester__name" if opened else "assignee__name"
    url = _ticket_url_format()
    rows = _timeline_rows(
        Ticket.objects.filter(**_ticket_scope(query)),
        query,
        kind,
        at_field,
        ("subject", actor_field, "requester__name"),
    )
    return [
        TimelineEntry(
            at=row[at_field],
            kind=kind,
            id=row["id"],
            title=f"{'Opened' if opened else 'Solved'} ticket #{row['id']}",
            summary=_short(row["subject"]),
            url=url.format(row["id"]),
            actor=row[actor_field] or "",
            source_app=TIMELINE_SOURCE,
        )
        for row in rows
    ]


def _message_entries(query: TimelineQuery, kind: str) -> list[TimelineEntry]:
    from_customer = kind == "message_customer"
    messages = TicketMessage.objects.filter(_on_tickets(query), kind=TicketMessage.Kind.REPLY)
    if from_customer:
        messages = messages.filter(author__isnull=True, author_contact__isnull=False)
    else:
        messages = messages.filter(author__isnull=False)
    fields = ("ticket_id", "ticket__subject", "body", "author__name", "author__email", "author_contact__name")
    rows = _timeline_rows(messages, query, kind, "created", fields)
    url = _ticket_url_format()
    return [
        TimelineEntry(
            at=row["created"],
            kind=kind,
            id=row["id"],
            title=f"{'Customer wrote' if from_customer else 'Agent replied'} on #{row['ticket_id']}: "
            f"{row['ticket__subject']}",
            summary=_short(row["body"]),
            url=url.format(row["ticket_id"]) + f"#message-{row['id']}",
            actor=(row["author_contact__name"] if from_customer else row["author__name"] or row["author__email"]) or "",
            source_app=TIMELINE_SOURCE,
        )
        for row in rows
    ]


def _csat_entries(query: TimelineQuery) -> list[TimelineEntry]:
    surveys = SatisfactionSurvey.objects.filter(_on_tickets(query), rating__isnull=False)
    fields = ("ticket_id", "ticket__subject", "rating", "comment", "ticket__requester__name")
    rows = _timeline_rows(surveys, query, "csat", "answered_at", fields)
    url = _ticket_url_format()
    return [
        TimelineEntry(
            at=row["answered_at"],
            kind="csat",
            id=row["id"],
            title=f"Rated #{row['ticket_id']} {row['rating']}/5: {row['ticket__subject']}",
            summary=_short(row["comment"]),
            url=url.format(row["ticket_id"]),
            actor=row["ticket__requester__name"] or "",
            source_app=TIMELINE_SOURCE,
            detail={"rating": row["rating"]},
        )
        for row in rows
    ]


def timeline_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """Tickets opened and solved, public messages both ways and CSAT answers of a company or a person, for
    customers' timeline: one query per kind asked, each at most `query.limit` rows after the page position."""
    streams = [_ticket_entries(query, kind) for kind in ("ticket_opened", "ticket_solved") if query.wants(kind)]
    streams += [_message_entries(query, kind) for kind in ("message_customer", "message_agent") if query.wants(kind)]
    if query.wants("csat"):
        streams.append(_csat_entries(query))
    return list(heapq.merge(*streams, key=lambda entry: entry.sort_key, reverse=True))[: query.limit]


def timeline_active_customers(since: datetime, until: datetime) -> set[int]:
    """Companies with a ticket opened or solved, a public message or a CSAT answer in [since, until): one query
    (the same rows `timeline_entries` shows, found by time rather than by company)."""
    opened = Ticket.objects.filter(created__gte=since, created__lt=until).order_by().values_list("customer_id")
    solved = Ticket.objects.filter(solved_at__gte=since, solved_at__lt=until).order_by().values_list("customer_id")
    messages = (
        TicketMessage.objects.filter(created__gte=since, created__lt=until, kind=TicketMessage.Kind.REPLY)
        .filter(Q(author__isnull=False) | Q(author_contact__isnull=False))
        .order_by()
        .values_list("ticket__customer_id")
    )
    answers = (
        SatisfactionSurvey.objects.filter(answered_at__gte=since, answered_at__lt=until, rating__isnull=False)
        .order_by()
        .values_list("ticket__customer_id")
    )
    rows = opened.union(solved, messages, answers)
    return {customer_id for (customer_id,) in rows if customer_id is not None}


def timeline_provider_register() -> None:
    timeline_provider_register_with_customers(
        TimelineProvider(
            source_app=TIMELINE_SOURCE,
            kinds=TIMELINE_KINDS,
            entries=timeline_entries,
            active_customers=timeline_active_customers,
        )
    )
