"""Churn (customers/churn.py and the mark/unmark services): labels, the heuristic until a model is deployed, the
model path, training rows oldest first with nothing from after their cut-off, the health job storing the risk, and
the company page, list filter and API showing it."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ai import facade as ai
from customers import churn, health, services
from customers.models import Customer, HealthSnapshot
from helpdesk.models import Ticket
from helpdesk.tests.factories import TicketFactory

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def old_company(**fields) -> Customer:
    return CustomerFactory(created=ago(400), **fields)


# --- Marking ---------------------------------------------------------------------------------------------


def test_marking_a_company_churned_sets_date_and_reason_and_clears_its_risk(make_user):
    customer = old_company()
    Customer.objects.filter(pk=customer.pk).update(churn_risk=0.4, churn_risk_source="heuristic")
    customer.refresh_from_db()
    day = timezone.localdate() - timedelta(days=3)

    services.customer_churn_mark(customer=customer, actor=make_user("agent"), churned_at=day, reason=" Price ")

    customer.refresh_from_db()
    assert (customer.churned_at, customer.churn_reason) == (day, "Price")
    assert customer.churn_risk is None and customer.churn_risk_source == ""


@pytest.mark.parametrize(
    ("days", "reason", "field"),
    [(-1, "", "churned_at"), (500, "", "churned_at"), (1, "x" * 201, "churn_reason")],
)
def test_marking_rejects_a_future_date_a_date_before_the_company_and_a_long_reason(make_user, days, reason, field):
    customer = old_company()

    with pytest.raises(ValidationError) as error:
        services.customer_churn_mark(
            customer=customer,
            actor=make_user("agent"),
            churned_at=timezone.localdate() - timedelta(days=days),
            reason=reason,
        )

    assert field in error.value.message_dict
    customer.refresh_from_db()
    assert customer.churned_at is None


def test_unmarking_makes_it_a_customer_again(make_user):
    customer = old_company(churned_at=timezone.localdate(), churn_reason="Budget")

    services.customer_churn_unmark(customer=customer, actor=make_user("agent"))

    customer.refresh_from_db()
    assert (customer.churned_at, customer.churn_reason) == (None, "")


# --- The heuristic ---------------------------------------------------------------------------------------


def test_the_heuristic_rises_as_health_falls_and_drops_and_says_why():
    steady_high, _ = churn.heuristic(80, 80)
    steady_mid, _ = churn.heuristic(60, 60)
    falling_low, reason = churn.heuristic(40, 60)

    assert steady_high < 0.05 < steady_mid < 0.25 < 0.9 < falling_low
    assert reason == "Health 40/100, down 20 points in 30 days."
    assert churn.heuristic(None, None) == (None, "Not enough health data to estimate a risk.")


def test_the_heuristic_label_names_how_many_churned_companies_a_model_needs():
    assert f"until {ai.outcome_examples_needed()} churned companies" in churn.heuristic_label()


# --- The health job stores the risk ------------------------------------------------------------------------


def tickets(customer: Customer, count: int, *, days_ago: float, **fields) -> None:
    requester = ContactFactory(customer=customer)
    made = [TicketFactory(requester=requester, customer=customer, **fields) for _ in range(count)]
    Ticket.objects.filter(pk__in=[t.pk for t in made]).update(created=ago(days_ago))


def test_the_health_job_stores_the_heuristic_risk_and_skips_churned_companies():
    active, quiet, gone = old_company(), old_company(), old_company(churned_at=timezone.localdate())
    for customer in (active, gone):
        tickets(customer, 2, days_ago=3)
    HealthSnapshot.objects.create(
        customer=active, day=timezone.localdate() - timedelta(days=30), at=ago(30), score=90, band="healthy"
    )

    health.customer_health_analyze()

    active.refresh_from_db(), quiet.refresh_from_db(), gone.refresh_from_db()
    expected, reason = churn.heuristic(active.health_score, 90)
    assert active.churn_risk == pytest.approx(expected) and active.churn_risk_source == "heuristic"
    assert active.churn_drivers == [reason]
    assert quiet.churn_risk is None and quiet.churn_drivers == ["Not enough health data to estimate a risk."]
    assert gone.churn_risk is None and gone.churn_risk_source == ""


def synthetic_rows(count: int, seed: int = 3) -> tuple[list[dict], list[bool]]:
    rng = random.Random(seed)
    rows, outcomes = [], []
    for _ in range(count):
        churned = rng.random() < 0.4
        score = rng.randint(20, 55) if churned else rng.randint(50, 95)
        rows.append({name: None for name in churn.FEATURES} | {"health_score": score, "tier": "starter"})
        outcomes.append(churned)
    return rows, outcomes


def test_with_a_deployed_model_the_job_stores_its_probability_version_and_drivers():
    rows, outcomes = synthetic_rows(120)
    report = ai.outcome_model_train(churn.MODEL, rows, outcomes, outcome_names=("Churned", "Stayed"))
    assert report.deployed, report
    customer = old_company()
    tickets(customer, 2, days_ago=3)

    health.customer_health_analyze()

    customer.refresh_from_db()
    assert customer.churn_risk_source == f"{churn.MODEL} v{report.version}"
    assert 0 <= customer.churn_risk <= 1 and customer.churn_drivers


# --- Training rows -----------------------------------------------------------------------------------------


def test_training_rows_come_oldest_first_with_the_documented_fields():
    for days in (300, 120, 200):
        old_company(churned_at=timezone.localdate() - timedelta(days=days))
    for _ in range(6):
        old_company()

    examples = churn.training_examples()

    cutoffs = [example[0] for example in examples]
    assert cutoffs == sorted(cutoffs) and len(examples) == 9
    assert all(set(example[2]) == set(churn.FEATURES) for example in examples)
    assert all(at <= ago(churn.CUTOFF_DAYS) for at in cutoffs)
    churned = [example for example in examples if example[3]]
    assert len(churned) == 3
    data = churn.churn_training_data()
    assert data.outcomes == tuple(example[3] for example in examples)


def test_a_churned_company_is_described_as_of_a_month_before_it_left_not_later():
    customer = old_company(churned_at=timezone.localdate() - timedelta(days=60))
    tickets(customer, 3, days_ago=100)  # before the cut-off (90 days ago): seen
    tickets(customer, 8, days_ago=70)  # a surge after the cut-off, just before leaving: must not be seen
    ContactFactory(customer=customer, created=ago(120))  # before the cut-off: counted

    ((at, _, row, outcome),) = churn.training_examples()

    assert outcome is True
    assert abs((ago(90) - at).total_seconds()) < 2 * 86400
    assert row["contacts"] == 1  # the requesters were added today, after the cut-off: not counted
    assert row["days_since_contact"] == pytest.approx(10, abs=1)  # the tickets of 100 days ago, not those of 70


# --- Pages and API -----------------------------------------------------------------------------------------


def test_the_company_page_shows_the_heuristic_risk_and_its_reason(client, login):
    login("viewer")
    customer = old_company()
    Customer.objects.filter(pk=customer.pk).update(
        churn_risk=0.42, churn_risk_source="heuristic", churn_drivers=["Health 48/100, down 12 points in 30 days."]
    )

    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()

    assert 'data-testid="churn-risk">42%' in html
    assert "down 12 points" in html and "Heuristic until" in html
    assert "churn-mark-form" not in html  # a viewer cannot mark


def test_the_company_page_names_the_model_version(client, login):
    login("agent")
    customer = old_company()
    Customer.objects.filter(pk=customer.pk).update(
        churn_risk=0.1, churn_risk_source="customers.churn v2", churn_drivers=["CSAT = 4.8 lowers the odds"]
    )

    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()

    assert "Model customers.churn v2." in html and "CSAT = 4.8 lowers the odds" in html
    assert "churn-mark-form" in html


def test_an_agent_marks_and_unmarks_from_the_company_page(client, login):
    login("agent")
    customer = old_company()
    day = timezone.localdate() - timedelta(days=2)

    response = client.post(
        reverse("customers:customer_churn_mark", args=[customer.pk]), {"churned_at": day.isoformat(), "reason": "Price"}
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.churned_at, customer.churn_reason) == (day, "Price")
    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert 'data-testid="churned-on"' in html and "Price" in html
    client.post(reverse("customers:customer_churn_unmark", args=[customer.pk]))
    customer.refresh_from_db()
    assert customer.churned_at is None


def test_a_future_churn_date_is_refused_with_a_message(client, login):
    login("agent")
    customer = old_company()

    response = client.post(
        reverse("customers:customer_churn_mark", args=[customer.pk]),
        {"churned_at": (timezone.localdate() + timedelta(days=5)).isoformat()},
        follow=True,
    )

    assert "cannot be in the future" in response.content.decode()
    customer.refresh_from_db()
    assert customer.churned_at is None


def test_a_viewer_cannot_mark_a_company_churned(client, login):
    login("viewer")
    customer = old_company()

    response = client.post(reverse("customers:customer_churn_mark", args=[customer.pk]), {"churned_at": "2026-01-01"})

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.churned_at is None


def test_the_list_filters_churned_companies_and_the_api_says_churn(client, login):
    login("agent")
    gone = CustomerFactory(name="Gone Ltd", churned_at=timezone.localdate(), churn_reason="Price")
    CustomerFactory(name="Still Here")

    html = client.get(reverse("customers:customer_list"), {"churned": "yes"}).content.decode()
    assert "Gone Ltd" in html and "Still Here" not in html
    html = client.get(reverse("customers:customer_list"), {"churned": "no"}).content.decode()
    assert "Gone Ltd" not in html and "Still Here" in html

    body = client.get(f"/api/v1/customers/{gone.pk}/").json()
    assert body["churn"] == {
        "churned_at": timezone.localdate().isoformat(),
        "reason": "Price",
        "risk": None,
        "source": "",
        "drivers": [],
    }


# --- Demo --------------------------------------------------------------------------------------------------


def test_the_demo_marks_the_sickest_companies_churned_in_the_past_once():
    from customers.demo import seed_churn

    sick = [old_company() for _ in range(3)]
    well = [old_company() for _ in range(3)]
    for customer in sick:  # a surge of tickets around every churn cut-off: low health then
        for days in (75, 95, 115, 135, 155):
            tickets(customer, 4, days_ago=days, priority="urgent")
    for customer in well:
        tickets(customer, 1, days_ago=200)

    marked = seed_churn(share=0.5)

    churned = Customer.objects.filter(churned_at__isnull=False)
    assert marked == churned.count() > 0
    assert set(churned.values_list("pk", flat=True)) <= {c.pk for c in sick + well}
    assert all(day < timezone.localdate() for day in churned.values_list("churned_at", flat=True))
    assert seed_churn(share=0.5) == 0
