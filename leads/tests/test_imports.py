"""Lead CSV import: a row-by-row report, duplicates of open leads refused, companies and contacts linked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core.csv_io import ImportMode
from customers.models import Contact, Customer
from customers.tests.factories import ContactFactory, CustomerFactory
from leads import services
from leads.imports import leads_import_csv
from leads.models import Lead, LeadStageChange

pytestmark = pytest.mark.django_db


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("leads.csv", text.encode(), content_type="text/csv")


def test_valid_rows_become_open_leads_linked_to_existing_companies_and_contacts(stages):
    owner = UserFactory(role="sales", email="sam@ours.test")
    jane = ContactFactory(email="jane@acme.com")
    initech = CustomerFactory(domain="initech.com")
    text = (
        "Title,Company,Contact email,Value,Currency,Stage,Owner email,Source,Close date,Tags\n"
        'Seats,Acme,JANE@acme.com,12500,eur,Proposal,SAM@ours.test,referral,2026-03-31,"upsell, emea"\n'
        "Pilot,Initech,bill@INITECH.com,300,,,,,,\n"
        "Fresh,Brand New Co,ann@brandnew.io,,,,,,,\n"
    )

    result = leads_import_csv(file=upload(text), actor=owner)

    assert (result.created, result.errors) == (3, [])
    seats = Lead.objects.get(title="Seats")
    assert (seats.customer, seats.contact, seats.stage) == (jane.customer, jane, stages["Proposal"])
    assert seats.value == Decimal("12500") and seats.currency == "EUR" and seats.owner == owner
    assert seats.source == "referral" and str(seats.expected_close) == "2026-03-31" and seats.tags == ["emea", "upsell"]
    pilot = Lead.objects.get(title="Pilot")
    assert pilot.customer == initech and pilot.contact is None and pilot.contact_email == "bill@initech.com"
    fresh = Lead.objects.get(title="Fresh")
    assert fresh.customer is None and fresh.company_name == "Brand New Co"
    assert Customer.objects.count() == 2 and Contact.objects.count() == 1  # nothing created before a win


def test_each_bad_row_is_reported_with_its_spreadsheet_number_and_nothing_is_written(stages):
    text = (
        "title,contact_email,value,currency,stage,owner_email,source,expected_close\n"
        "Good,ok@acme.com,10,USD,,,,\n"
        ",not-an-email,ten,EURO,Won,ghost@x.test,carrier pigeon,31/03/2026\n"
    )

    result = leads_import_csv(file=upload(text), actor=None)

    assert result.blocked and result.created == 0 and not Lead.objects.exists()
    [error] = result.errors
    assert error.row == 3
    text = " ".join(error.messages)
    for expected in ("title is empty", "valid email", "not a number", "three-letter", "closed stage", "ghost@x.test",
                     "carrier pigeon", "31/03/2026"):  # fmt: skip
        assert expected in text


def test_valid_only_mode_imports_the_good_rows_and_reports_the_others(stages):
    text = "title,value\nGood,1\nBad,lots\n"

    result = leads_import_csv(file=upload(text), actor=None, mode=ImportMode.VALID_ONLY)

    assert result.created == 1 and [error.row for error in result.errors] == [3]
    assert list(Lead.objects.values_list("title", flat=True)) == ["Good"]


def test_open_leads_with_the_same_contact_email_and_title_are_duplicates_in_the_file_and_the_workspace(stages):
    text = "title,contact_email\nRenewal,Ann@Soylent.com\nrenewal,ann@soylent.com\n"
    assert leads_import_csv(file=upload(text), actor=None, mode=ImportMode.VALID_ONLY).created == 1

    again = leads_import_csv(file=upload("title,contact_email\nRENEWAL,ann@soylent.com\n"), actor=None)

    assert again.created == 0 and "already exists" in str(again.errors[0])
    assert Lead.objects.count() == 1


def test_the_import_page_reports_bad_rows_and_redirects_after_a_clean_import(client, login, stages):
    from django.urls import reverse

    login("sales")
    assert client.get(reverse("leads:lead_import")).status_code == 200

    bad = client.post(reverse("leads:lead_import"), {"file": upload("title,value\nOk,1\nBad,lots\n"), "mode": "all"})
    assert bad.status_code == 200 and bad.content.decode().count('data-testid="import-error"') == 1
    assert not Lead.objects.exists()

    good = client.post(reverse("leads:lead_import"), {"file": upload("title\nOk\n"), "mode": "all"})
    assert good.status_code == 302 and Lead.objects.get().title == "Ok"


def test_agents_cannot_import_leads(client, login):
    from django.urls import reverse

    login("agent")
    assert client.get(reverse("leads:lead_import")).status_code == 403


def _rows(count: int) -> str:
    lines = ["title,company,contact_email,company_domain,owner_email,stage"]
    for index in range(count):
        lines.append(f"Deal {index},Co {index},p{index}@co{index}.com,co{index}.com,sam@ours.test,Qualified")
    return "\n".join(lines) + "\n"


def test_an_import_costs_the_same_queries_for_three_rows_or_thirty(stages, django_capture_on_commit_callbacks):
    owner = UserFactory(role="sales", email="sam@ours.test")
    for index in range(30):
        if index % 2:
            ContactFactory(email=f"p{index}@co{index}.com")
        else:
            CustomerFactory(domain=f"co{index}.com")
    counts = []
    for count in (3, 30):
        with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
            assert leads_import_csv(file=upload(_rows(count).replace("Deal", f"Deal{count}")), actor=owner).created
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
    deal = Lead.objects.get(title="Deal30 1")
    assert deal.contact.email == "p1@co1.com" and deal.customer == deal.contact.customer
    assert Lead.objects.get(title="Deal30 2").customer.domain == "co2.com"


def test_imported_leads_land_on_top_of_their_column_the_last_row_topmost(stages):
    services.lead_create(actor=None, title="Already there", stage=stages["Qualified"])

    leads_import_csv(file=upload("title,stage\nFirst,Qualified\nSecond,Qualified\nThird,\n"), actor=None)

    column = Lead.objects.filter(stage=stages["Qualified"]).order_by("position", "id")
    assert list(column.values_list("title", flat=True)) == ["Second", "First", "Already there"]
    assert Lead.objects.get(title="Third").stage == stages["Prospect"]
    assert LeadStageChange.objects.filter(lead__title__in=["First", "Second", "Third"], from_stage=None).count() == 3
