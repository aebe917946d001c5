"""The merged company and contact timeline: order, keyset pages across providers, filters, query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import selectors, timeline
from customers.contracts import TimelineEntry, TimelineKind, TimelineProvider, TimelineQuery
from helpdesk.models import Ticket, TicketMessage
from helpdesk.tests.factories import SatisfactionSurveyFactory, TicketFactory, TicketMessageFactory

from .factories import ContactFactory, CustomerFactory, NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def walk(page_size: int, **kwargs) -> list[list[TimelineEntry]]:
    """Every page of a timeline, following the cursors."""
    selector = selectors.contact_timeline if "contact_id" in kwargs else selectors.customer_timeline
    pages, cursor = [], None
    while True:
        page = selector(**kwargs, cursor=cursor, limit=page_size)
        pages.append(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return pages


def keys(entries: list[TimelineEntry]) -> list[tuple[str, int]]:
    return [(entry.kind, entry.id) for entry in entries]


@pytest.fixture
def company():
    """A company whose history has, at one same instant, a ticket, both kinds of message, a CSAT answer, a note
    and a task, and more spread over the following minutes: ties across providers and kinds at page borders."""
    customer = CustomerFactory(name="Acme")
    jane = ContactFactory(customer=customer, name="Jane")
    bob = ContactFactory(customer=customer, name="Bob")
    for minute in range(3):
        at = T0 + timedelta(minutes=minute)
        for person in (jane, bob):
            ticket = TicketFactory(requester=person, created=at, solved_at=at, status=Ticket.Status.SOLVED)
            TicketMessageFactory(ticket=ticket, created=at)
            TicketMessageFactory(ticket=ticket, created=at, author=None, author_contact=person)
            SatisfactionSurveyFactory(ticket=ticket, rating=4, answered_at=at)
            NoteFactory(customer=customer, contact=person, created=at)
            TaskFactory(customer=customer, contact=person, created=at, done=True, done_at=at)
        NoteFactory(customer=customer, created=at, body="About the **renewal**")
    return {"customer": customer, "jane": jane, "bob": bob}


def test_the_timeline_is_newest_first_with_one_fixed_order_for_ties(company):
    entries = selectors.customer_timeline(customer_id=company["customer"].pk, limit=100).entries

    assert len(entries) == 3 * (2 * 8 + 1)
    assert [entry.sort_key for entry in entries] == sorted((entry.sort_key for entry in entries), reverse=True)
    assert entries[0].at == T0 + timedelta(minutes=2)
    assert {entry.source_app for entry in entries} == {"customers", "helpdesk"}


@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 7, 16])
def test_keyset_pages_lose_and_repeat_nothing_at_borders_between_equal_times(company, page_size):
    everything = keys(selectors.customer_timeline(customer_id=company["customer"].pk, limit=100).entries)

    pages = walk(page_size, customer_id=company["customer"].pk)

    walked = [key for page in pages for key in keys(page)]
    assert walked == everything
    assert all(len(page) == page_size for page in pages[:-1])


def test_a_contact_timeline_holds_only_that_person(company):
    jane = company["jane"]

    entries = [entry for page in walk(4, contact_id=jane.pk) for entry in page]

    assert len(entries) == 3 * 8
    jane_tickets = set(Ticket.objects.filter(requester=jane).values_list("id", flat=True))
    assert {entry.id for entry in entries if entry.kind == "ticket_opened"} == jane_tickets
    assert all(entry.title == "Note on Jane" for entry in entries if entry.kind == "note")


def test_kinds_filter_keeps_only_the_asked_activity_types(company):
    page = selectors.customer_timeline(customer_id=company["customer"].pk, kinds=["csat", "note"], limit=100)

    assert {entry.kind for entry in page.entries} == {"csat", "note"}
    assert len(page.entries) == 3 * 2 + 3 * 3


def test_unknown_kinds_are_ignored_and_none_means_every_kind(company):
    customer_id = company["customer"].pk
    unknown = selectors.customer_timeline(customer_id=customer_id, kinds=["nope", "message_customer"], limit=100)
    empty = selectors.customer_timeline(customer_id=customer_id, kinds=[], limit=100)

    assert {entry.kind for entry in unknown.entries} == {"message_customer"}
    assert len(empty.entries) == 51


def test_date_range_includes_since_and_excludes_until(company):
    customer_id = company["customer"].pk
    since, until = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)

    page = selectors.customer_timeline(customer_id=customer_id, since=since, until=until, limit=100)

    assert {entry.at for entry in page.entries} == {since}


def test_pages_cost_one_query_per_activity_type_whatever_the_page(company, django_assert_num_queries):
    customer_id = company["customer"].pk
    first = selectors.customer_timeline(customer_id=customer_id, limit=5)
    # Leads look once whether the company has any (it has none here) before a query per kind of theirs.
    kinds = 1 + sum(not kind.name.startswith("lead_") for kind in timeline.timeline_kinds())

    with django_assert_num_queries(kinds):
        selectors.customer_timeline(customer_id=customer_id, limit=5)
    with django_assert_num_queries(kinds):
        selectors.customer_timeline(customer_id=customer_id, cursor=first.next_cursor, limit=20)
    with django_assert_num_queries(2):
        selectors.customer_timeline(customer_id=customer_id, kinds=["note", "csat"], limit=20)


def test_each_provider_is_asked_for_one_more_than_a_page_never_everything(company):
    with CaptureQueriesContext(connection) as captured:
        selectors.customer_timeline(customer_id=company["customer"].pk, limit=4)

    pages = [query["sql"] for query in captured.captured_queries if "LIMIT 5" in query["sql"]]
    assert len(pages) == len(captured.captured_queries) - 1
    assert "LIMIT 1" in next(q["sql"] for q in captured.captured_queries if "LIMIT 5" not in q["sql"])  # leads' probe


def test_a_forged_cursor_starts_at_the_newest(company):
    customer_id = company["customer"].pk
    newest = selectors.customer_timeline(customer_id=customer_id, limit=3)

    forged = selectors.customer_timeline(customer_id=customer_id, cursor="garbage:abc", limit=3)

    assert keys(forged.entries) == keys(newest.entries)


def test_internal_notes_and_other_companies_stay_off_the_timeline(company):
    other = TicketFactory(created=T0 + timedelta(hours=1))
    ticket = Ticket.objects.filter(customer=company["customer"]).first()
    TicketMessageFactory(ticket=ticket, kind=TicketMessage.Kind.NOTE, created=T0 + timedelta(hours=1))

    entries = selectors.customer_timeline(customer_id=company["customer"].pk, limit=100).entries

    assert len(entries) == 51
    assert other.pk not in {entry.id for entry in entries if entry.kind == "ticket_opened"}


def test_a_registered_provider_joins_the_merge(company):
    def entries(query: TimelineQuery) -> list[TimelineEntry]:
        at = T0 + timedelta(minutes=1)
        if query.after is not None and (at, "zz", "call", 1) >= query.after.key:
            return []
        return [TimelineEntry(at=at, kind="call", id=1, title="Call", summary="", url="", actor="", source_app="zz")]

    timeline.provider_register(TimelineProvider("zz", (TimelineKind("call", "Calls", "telephone"),), entries))
    try:
        pages = walk(5, customer_id=company["customer"].pk)
    finally:
        timeline.provider_unregister("zz")

    walked = [key for page in pages for key in keys(page)]
    assert walked.count(("call", 1)) == 1
    assert len(walked) == 52
