"""Churn through the API and the list: mark / un-mark a company with validation (documented in the schema), and the
company list sorted riskiest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import selectors
from customers.models import Customer

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def churn_url(customer_id: int) -> str:
    return reverse("customers_api:customer_churn", args=[customer_id])


def with_risk(name: str, risk: float | None, **fields) -> Customer:
    customer = CustomerFactory(name=name, **fields)
    Customer.objects.filter(pk=customer.pk).update(churn_risk=risk)
    return customer


# --- The API --------------------------------------------------------------------------------------


def test_marking_a_customer_churned_through_the_api_sets_date_and_reason(client, login):
    login("agent")
    customer = with_risk("Acme", 0.4, created=timezone.now() - timedelta(days=90))
    day = timezone.localdate() - timedelta(days=3)

    response = client.post(
        churn_url(customer.pk), {"churned_at": day.isoformat(), "reason": "Moved to a competitor"}, "application/json"
    )

    assert response.status_code == 200
    churn = response.json()
    assert (churn["churned_at"], churn["reason"], churn["risk"]) == (day.isoformat(), "Moved to a competitor", None)
    customer.refresh_from_db()
    assert (customer.churned_at, customer.churn_reason, customer.churn_risk) == (day, "Moved to a competitor", None)


def test_marking_without_a_date_means_today(client, login):
    login("agent")
    customer = CustomerFactory()

    response = client.post(churn_url(customer.pk), {}, "application/json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.churned_at == timezone.localdate()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"churned_at": "tomorrow"}, "churned_at"),
        ({"churned_at": (timezone.localdate() + timedelta(days=2)).isoformat()}, "churned_at"),
        ({"churned_at": "2001-01-01"}, "churned_at"),  # before the company was added
        ({"reason": "x" * 201}, "reason"),
    ],
)
def test_an_invalid_churn_is_refused_field_by_field(client, login, payload, field):
    login("agent")
    customer = CustomerFactory()

    response = client.post(churn_url(customer.pk), payload, "application/json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    customer.refresh_from_db()
    assert customer.churned_at is None


def test_reading_the_churn_of_a_customer(client, login):
    login("viewer")
    customer = with_risk("Acme", 0.25)

    response = client.get(churn_url(customer.pk))

    assert response.status_code == 200
    assert (response.json()["churned_at"], response.json()["risk"]) == (None, 0.25)


def test_un_marking_through_the_api_makes_it_a_customer_again(client, login):
    login("agent")
    customer = CustomerFactory(churned_at=timezone.localdate(), churn_reason="Price")

    response = client.delete(churn_url(customer.pk))

    assert response.status_code == 200 and response.json()["churned_at"] is None
    customer.refresh_from_db()
    assert (customer.churned_at, customer.churn_reason) == (None, "")


@pytest.mark.parametrize("method", ["post", "delete"])
def test_a_viewer_may_not_mark_or_unmark(client, login, method):
    login("viewer")
    customer = CustomerFactory(churned_at=timezone.localdate() if method == "delete" else None)

    response = getattr(client, method)(churn_url(customer.pk), {}, "application/json")

    assert response.status_code == 403
    customer.refresh_from_db()
    assert (customer.churned_at is None) == (method == "post")


def test_an_unknown_customer_is_a_404(client, login):
    login("agent")

    assert client.post(churn_url(999_999), {}, "application/json").status_code == 404


def test_the_schema_documents_both_churn_operations(client, login):
    login("admin")

    schema = client.get("/api/v1/schema/?format=json").json()

    operations = schema["paths"]["/api/v1/customers/{customer_id}/churn/"]
    assert operations["get"]["summary"] == "Get a customer's churn"
    assert operations["post"]["summary"] == "Mark a customer churned"
    assert operations["delete"]["summary"] == "Mark a customer not churned"
    body = operations["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][body]["properties"]
    assert set(properties) == {"churned_at", "reason"} and properties["reason"]["maxLength"] == 200


# --- The list, riskiest first ---------------------------------------------------------------------


def test_the_list_sorts_by_churn_risk_riskiest_first_and_unscored_last():
    with_risk("Low", 0.05)
    with_risk("High", 0.9)
    with_risk("Unscored", None)
    with_risk("Mid", 0.4)
    with_risk("Gone", None, churned_at=timezone.localdate())

    riskiest = [c.name for c in selectors.customer_list(sort="churn").items]
    safest = [c.name for c in selectors.customer_list(sort="-churn").items]

    assert riskiest == ["High", "Mid", "Low", "Gone", "Unscored"]
    assert safest == list(reversed(riskiest))


def test_churn_sort_keyset_pages_cover_every_row_once_despite_ties():
    for index in range(11):
        with_risk(f"C{index % 3}", [0.2, 0.7, None][index % 3])

    walked, cursor = [], None
    while True:
        page = selectors.customer_list(sort="churn", cursor=cursor, page_size=3)
        walked.extend(page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    assert [c.pk for c in walked] == [c.pk for c in selectors.customer_list(sort="churn", page_size=100).items]
    assert len({c.pk for c in walked}) == 11


def test_the_list_page_sorts_by_churn_risk_and_shows_it(client, login):
    login("agent")
    with_risk("Low", 0.05)
    with_risk("High", 0.9)

    html = client.get(reverse("customers:customer_list"), {"sort": "churn"}).content.decode()

    assert html.index("High") < html.index("Low")
    assert "90%" in html and 'aria-sort="ascending"' in html
