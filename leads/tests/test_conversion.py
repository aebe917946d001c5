"""Winning a lead links it to its company and contact, created when unknown and never twice."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from customers.models import Contact, Customer
from customers.tests.factories import ContactFactory, CustomerFactory
from leads import services

pytestmark = pytest.mark.django_db


def win(lead, stages):
    return services.lead_move(lead=lead, stage=stages["Won"], position=0, actor=UserFactory(role="sales"))


def test_winning_a_lead_creates_its_company_and_contact(stages):
    lead = services.lead_create(
        actor=None, title="Rollout", company_name="Globex", company_domain="https://www.Globex.io/",
        contact_name="Hank Scorpio", contact_email="Hank@Globex.io",
    )  # fmt: skip

    lead = win(lead, stages)

    assert lead.customer.name == "Globex" and lead.customer.domain == "globex.io"
    assert lead.contact.email == "hank@globex.io" and lead.contact.customer == lead.customer
    lead.refresh_from_db()
    assert lead.customer_id and lead.contact_id  # kept for quotes (lead_id) later


def test_winning_links_an_existing_contact_by_email_whatever_its_case(stages):
    contact = ContactFactory(email="jane@acme.com")
    lead = services.lead_create(actor=None, title="Upsell", company_name="Other name", contact_email="JANE@ACME.COM")

    lead = win(lead, stages)

    assert (lead.customer, lead.contact) == (contact.customer, contact)
    assert Customer.objects.count() == 1 and Contact.objects.count() == 1


def test_winning_links_an_existing_company_by_domain_and_adds_the_new_person(stages):
    company = CustomerFactory(name="Initech", domain="initech.com")
    lead = services.lead_create(
        actor=None, title="Seats", company_domain="INITECH.com", contact_name="Peter", contact_email="peter@initech.com"
    )

    lead = win(lead, stages)

    assert lead.customer == company and Customer.objects.count() == 1
    assert lead.contact.customer == company and lead.contact.name == "Peter"


def test_winning_links_an_existing_company_by_name_case_insensitively(stages):
    company = CustomerFactory(name="Umbrella Corp", domain="")
    lead = services.lead_create(actor=None, title="Deal", company_name="umbrella corp")

    assert win(lead, stages).customer == company
    assert Customer.objects.count() == 1


def test_a_second_win_creates_no_duplicates(stages):
    lead = services.lead_create(actor=None, title="Again", company_name="Soylent", contact_email="ann@soylent.com")
    lead = win(lead, stages)
    services.lead_move(lead=lead, stage=stages["Proposal"], position=0, actor=None)
    services.lead_update(lead=lead, actor=None, data={"customer": None, "contact": None})
    other = services.lead_create(actor=None, title="Other", company_name="SOYLENT", contact_email="Ann@soylent.com")

    win(lead, stages)
    win(other, stages)

    assert Customer.objects.filter(name__iexact="soylent").count() == 1
    assert Contact.objects.filter(email__iexact="ann@soylent.com").count() == 1


def test_a_won_lead_without_company_details_is_won_without_creating_anything(stages):
    lead = services.lead_create(actor=None, title="Mystery", contact_name="Someone", contact_email="x@gmail.com")

    lead = win(lead, stages)

    assert lead.won_at is not None and lead.stage == stages["Won"]
    assert lead.customer is None and lead.contact is None
    assert not Customer.objects.exists() and not Contact.objects.exists()


def test_a_lead_with_a_company_keeps_it_and_gets_its_new_contact(stages):
    company = CustomerFactory(name="Acme", domain="acme.com")
    elsewhere = ContactFactory(email="bob@elsewhere.com")
    lead = services.lead_create(actor=None, title="Seats", customer=company, contact_email="carol@acme.com")
    stray = services.lead_create(actor=None, title="Stray", customer=company, contact_email="bob@elsewhere.com")

    assert win(lead, stages).contact.customer == company
    stray = win(stray, stages)
    assert stray.customer == company and stray.contact is None  # never moved from its own company
    assert Contact.objects.filter(email="bob@elsewhere.com").get() == elsewhere
