"""Leads on the company and contact timelines: created, stage changes (won and lost apart), activities, pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customers import selectors
from customers.tests.factories import ContactFactory, CustomerFactory, NoteFactory
from helpdesk.tests.factories import TicketFactory
from leads import services

from .factories import LeadActivityFactory, LeadFactory, LeadStageChangeFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD_KINDS = ["lead_created", "lead_stage", "lead_won", "lead_lost", "lead_activity"]


def keys(entries) -> list[tuple[str, str, int]]:
    return [(entry.source_app, entry.kind, entry.id) for entry in entries]


def test_a_lead_its_moves_and_activities_show_on_the_company_and_contact_timelines(stages):
    customer = CustomerFactory(name="Acme")
    jane = ContactFactory(customer=customer)
    lead = services.lead_create(actor=None, title="Seats", customer=customer, contact=jane)
    services.lead_move(lead=lead, stage=stages["Proposal"], position=0, actor=None)
    services.lead_activity_create(lead=lead, actor=None, subject="Demo call", kind="call")
    services.lead_move(lead=lead, stage=stages["Won"], position=0, actor=None)
    lost = services.lead_create(actor=None, title="Add-on", customer=customer)
    services.lead_move(lead=lost, stage=stages["Lost"], position=0, actor=None, lost_reason="Budget")

    company = selectors.customer_timeline(customer_id=customer.pk, kinds=LEAD_KINDS).entries
    person = selectors.contact_timeline(contact_id=jane.pk, kinds=LEAD_KINDS).entries

    kinds = sorted(entry.kind for entry in company)
    assert kinds == sorted(["lead_created", "lead_created", "lead_stage", "lead_activity", "lead_won", "lead_lost"])
    won = next(entry for entry in company if entry.kind == "lead_won")
    assert won.title == "Won lead: Seats" and won.summary == "Proposal → Won" and won.detail == {"tone": "success"}
    assert won.url == f"/leads/{lead.pk}/"
    assert next(entry for entry in company if entry.kind == "lead_lost").summary == "Prospect → Lost (Budget)"
    assert "Add-on" not in " ".join(entry.title for entry in person)  # not Jane's lead
    assert len(person) == 4


def test_other_companies_leads_stay_off_the_timeline(stages):
    customer = CustomerFactory()
    LeadFactory(customer=CustomerFactory())

    assert selectors.customer_timeline(customer_id=customer.pk, kinds=LEAD_KINDS).entries == []


@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 8])
def test_keyset_pages_across_providers_lose_and_repeat_nothing(page_size):
    """Leads, notes and tickets at the same instants: page borders fall between providers and kinds."""
    customer = CustomerFactory()
    person = ContactFactory(customer=customer)
    for minute in range(3):
        at = T0 + timedelta(minutes=minute)
        lead = LeadFactory(customer=customer, contact=person, created=at)
        LeadStageChangeFactory(lead=lead, from_stage=lead.stage, at=at)
        LeadActivityFactory(lead=lead, created=at)
        NoteFactory(customer=customer, created=at)
        TicketFactory(requester=person, created=at)
    everything = keys(selectors.customer_timeline(customer_id=customer.pk, limit=100).entries)
    assert {source for source, _, _ in everything} == {"customers", "helpdesk", "leads"}

    walked, cursor = [], None
    while True:
        page = selectors.customer_timeline(customer_id=customer.pk, cursor=cursor, limit=page_size)
        walked += keys(page.entries)
        if (cursor := page.next_cursor) is None:
            break

    assert walked == everything


def test_a_page_of_leads_costs_one_query_per_kind(django_assert_num_queries):
    customer = CustomerFactory()
    for _ in range(4):
        lead = LeadFactory(customer=customer)
        LeadActivityFactory(lead=lead)
        LeadStageChangeFactory(lead=lead, from_stage=lead.stage)

    with django_assert_num_queries(1 + len(LEAD_KINDS)):  # whether the company has leads, then one per kind
        selectors.customer_timeline(customer_id=customer.pk, kinds=LEAD_KINDS, limit=3)


def test_a_company_without_leads_costs_one_query_for_leads(django_assert_num_queries):
    customer = CustomerFactory()
    LeadFactory()  # another company's

    with django_assert_num_queries(1):
        page = selectors.customer_timeline(customer_id=customer.pk, kinds=LEAD_KINDS, limit=3)

    assert page.entries == []
