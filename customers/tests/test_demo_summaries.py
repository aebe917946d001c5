"""Demo data: yesterday's summaries, so the demo's company pages show their "Yesterday" card."""

from __future__ import annotations

import pytest
from django.db.models.functions import Lower
from django.urls import reverse

from customers.demo import DAILY_SUMMARY_COMPANIES, seed_customers, seed_daily_summaries
from customers.digests import yesterday
from customers.models import Customer, DailySummary

pytestmark = pytest.mark.django_db


def test_the_first_companies_of_the_list_get_a_summary_of_yesterday(make_user):
    authors = [make_user("sales"), make_user("agent")]
    seed_customers(owners=authors, customers=20, contacts=40, seed=3)
    Customer.objects.update(created=Customer.objects.order_by("created").first().created.replace(year=2020))

    said = seed_daily_summaries(authors=authors, seed=3)

    top = list(Customer.objects.order_by(Lower("name"), "id").values_list("pk", flat=True)[:DAILY_SUMMARY_COMPANIES])
    summarised = set(DailySummary.objects.filter(day=yesterday()).values_list("customer_id", flat=True))
    assert set(top) <= summarised
    assert said.startswith(f"{len(summarised)} summaries of yesterday")
    assert all(summary.statements and summary.sources for summary in DailySummary.objects.all())


def test_seeding_again_adds_no_more_notes_and_rewrites_the_same_summaries(make_user):
    authors = [make_user("sales")]
    seed_customers(owners=authors, customers=5, contacts=5, seed=4)
    Customer.objects.update(created=Customer.objects.order_by("created").first().created.replace(year=2020))
    seed_daily_summaries(authors=authors, seed=4)
    before = DailySummary.objects.count()

    said = seed_daily_summaries(authors=authors, seed=4)

    assert DailySummary.objects.count() == before and "(0 notes of yesterday added)" in said


def test_the_demo_company_page_shows_yesterday(client, login, make_user):
    seed_customers(owners=[], customers=3, contacts=3, seed=5)
    Customer.objects.update(created=Customer.objects.order_by("created").first().created.replace(year=2020))
    seed_daily_summaries(authors=[make_user("sales")], seed=5)
    login("agent")
    company = Customer.objects.order_by(Lower("name")).first()

    html = client.get(reverse("customers:customer_detail", args=[company.pk])).content.decode()

    assert 'data-testid="yesterday-statements"' in html and 'data-testid="yesterday-empty"' not in html
