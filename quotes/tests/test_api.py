"""The quote REST API: list, create (for a company or from a lead), lines, status changes, versions and roles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads import services as lead_services
from quotes import services

from .factories import QuoteFactory

pytestmark = pytest.mark.django_db

QUOTES = reverse("quotes_api:quote_list")


def api(name: str, *args) -> str:
    return reverse(f"quotes_api:{name}", args=args)


def post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def test_list_filters_by_status_and_sorts_by_total(client, login, customer):
    login("viewer")
    QuoteFactory(customer=customer, title="Small", total=10, status="sent")
    QuoteFactory(customer=customer, title="Large", total=900, status="sent")
    QuoteFactory(customer=customer, title="Draft")
    body = client.get(QUOTES, {"status": "sent", "sort": "-total"}).json()
    assert [quote["title"] for quote in body["results"]] == ["Large", "Small"]
    assert body["results"][0]["reference"].startswith("Q-")


def test_create_add_lines_change_status_with_versions(client, login, customer, product):
    login("sales")
    created = post(client, QUOTES, {"customer_id": customer.pk, "title": "API quote", "currency": "USD"})
    assert created.status_code == 201
    quote = created.json()
    added = post(
        client, api("line_list", quote["id"]), {"product_id": product.pk, "quantity": 2, "version": quote["version"]}
    )
    assert added.status_code == 201 and added.json()["total"] == "117.600"
    line = added.json()["lines"][0]
    stale = client.patch(
        api("line_detail", line["id"]), {"quantity": 5, "version": quote["version"]}, content_type="application/json"
    )
    assert stale.status_code == 409
    changed = client.patch(
        api("line_detail", line["id"]),
        {"quantity": 5, "version": added.json()["version"]},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["subtotal"] == "245.000"
    assert post(client, api("quote_status", quote["id"]), {"status": "accepted"}).status_code == 409
    sent = post(client, api("quote_status", quote["id"]), {"status": "sent"})
    assert sent.status_code == 200 and sent.json()["status"] == "sent"


def test_create_from_a_lead_takes_its_company_and_refuses_unknown_ids(client, login, customer):
    login("sales")
    lead = lead_services.lead_create(actor=None, title="API deal", customer=customer)
    response = post(client, api("quote_from_lead"), {"lead_id": lead.pk})
    assert response.status_code == 201 and response.json()["customer"]["id"] == customer.pk
    refused = post(client, api("quote_from_lead"), {"lead_id": 987654})
    assert refused.status_code == 400 and "No lead has the id 987654" in refused.json()["error"]["fields"]["lead_id"][0]


def test_viewers_read_but_do_not_write(client, login, customer):
    login("viewer")
    quote = services.quote_create(actor=None, customer_id=customer.pk)
    assert client.get(api("quote_detail", quote.pk)).status_code == 200
    assert post(client, QUOTES, {"customer_id": customer.pk}).status_code == 403
