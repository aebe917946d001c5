"""Customer health on the pages and in the API: the company page's card and chart, the list's column, sort and
filter, the customer API's `health` and /api/v1/customers/{id}/health/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import health
from customers.models import Customer

from .factories import CustomerFactory, HealthSnapshotFactory

pytestmark = pytest.mark.django_db


def driver(key: str, label: str, points: int, value: str, explanation: str, *, has_data: bool = True) -> dict:
    return {
        "key": key,
        "label": label,
        "points": points,
        "value": value,
        "explanation": explanation,
        "has_data": has_data,
    }


def scored(customer: Customer, score: int, band: str) -> Customer:
    drivers = [
        driver("csat", "CSAT", 12, "4.7/5", "Rated well."),
        driver("sla", "SLA breaches", -10, "2", "Two late."),
        driver("contact", "Last contact", 0, "—", "Not enough data yet.", has_data=False),
    ]
    Customer.objects.filter(pk=customer.pk).update(
        health_score=score, health_band=band, health_drivers=drivers, health_updated=timezone.now()
    )
    customer.refresh_from_db()
    return customer


def test_company_page_shows_score_band_drivers_and_history_chart(client, login):
    login("agent")
    customer = scored(CustomerFactory(name="Initech"), 52, "at_risk")
    today = timezone.localdate()
    for n, score in enumerate((70, 61, 52)):
        HealthSnapshotFactory(customer=customer, day=today - timedelta(days=2 - n), score=score, band="at_risk")

    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()

    assert 'data-testid="health-score"' in html and ">52<" in html
    assert 'data-testid="health-band">At risk<' in html
    assert html.count('data-testid="health-driver"') == 3
    assert "+12 pts" in html and "−10 pts" in html and "Not enough data yet." in html
    assert 'role="img"' in html and "<desc" in html and "70 on" in html and "52 on" in html  # the text alternative
    assert html.count("<circle") == 3 and f"{today:%b %-d, %Y}: 52, At risk" in html  # tooltips with values


def test_company_page_before_any_score_says_so(client, login):
    login("viewer")
    customer = CustomerFactory()

    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()

    assert 'data-testid="health-pending"' in html and 'data-testid="health-no-history"' in html


def test_company_page_queries_do_not_grow_with_history(client, login, django_assert_max_num_queries):
    login("agent")
    customer = scored(CustomerFactory(), 80, "healthy")
    today = timezone.localdate()
    HealthSnapshotFactory.create_batch(60, customer=customer, day=factory_days(today))

    # As customers/tests/test_views.py counts the company page (history, notes, tasks, timeline page, yesterday's
    # summary, panels: quotes' included): 60 days or 1.
    with django_assert_max_num_queries(29):
        response = client.get(reverse("customers:customer_detail", args=[customer.pk]))
    assert response.content.decode().count("<circle") == 60


def factory_days(today):
    import factory

    return factory.Iterator([today - timedelta(days=n) for n in range(60)])


def test_list_shows_health_and_sorts_worst_first_and_filters_by_band(client, login):
    login("agent")
    scored(CustomerFactory(name="Good Co"), 88, "healthy")
    scored(CustomerFactory(name="Bad Co"), 21, "critical")
    CustomerFactory(name="New Co")

    html = client.get(reverse("customers:customer_list"), {"sort": "health"}).content.decode()
    assert html.index("New Co") < html.index("Bad Co") < html.index("Good Co")  # never scored, then worst first
    assert 'data-testid="health-band">Critical<' in html

    html = client.get(reverse("customers:customer_list"), {"health": "critical"}).content.decode()
    assert "Bad Co" in html and "Good Co" not in html


def test_customer_api_carries_score_and_drivers(client, login):
    login("viewer")
    customer = scored(CustomerFactory(), 61, "at_risk")

    body = client.get(reverse("customers_api:customer_detail", args=[customer.pk])).json()

    assert body["health"]["score"] == 61 and body["health"]["band"] == "at_risk"
    assert body["health"]["drivers"][0] == {
        "key": "csat", "label": "CSAT", "points": 12, "value": "4.7/5", "explanation": "Rated well.", "has_data": True
    }  # fmt: skip
    listed = client.get(reverse("customers_api:customer_list")).json()["results"]
    assert next(row for row in listed if row["id"] == customer.pk)["health"]["score"] == 61


def test_health_api_returns_the_current_score_and_the_history(client, login):
    login("viewer")
    customer = CustomerFactory()
    health.customer_health_backfill(days=2, customer_ids=[customer.pk])

    response = client.get(reverse("customers_api:customer_health", args=[customer.pk]))

    body = response.json()
    assert response.status_code == 200
    assert body["customer_id"] == customer.pk and body["score"] == 50 and body["band"] == "unknown"
    assert [row["day"] for row in body["history"]] == [
        (timezone.localdate() - timedelta(days=n)).isoformat() for n in (2, 1, 0)
    ]
    assert all(not driver["has_data"] for driver in body["drivers"])


def test_health_api_answers_404_for_an_unknown_company(client, login):
    login("viewer")

    response = client.get(reverse("customers_api:customer_health", args=[987654]))

    assert response.status_code == 404 and "987654" in response.content.decode()
