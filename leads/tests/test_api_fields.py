"""The lead API carries every field a lead has, writes the prospect fields, and documents them in its schema."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.tests.factories import ContactFactory
from leads import services

pytestmark = pytest.mark.django_db

LEADS = reverse("leads_api:lead_list")
SCHEMA = "/api/v1/schema/"
MODEL_FIELDS = {
    "id", "title", "customer", "contact", "company_name", "company_domain", "contact_name", "contact_email",
    "source", "source_ref", "owner", "value", "currency", "expected_close", "stage", "probability", "lost_reason",
    "tags", "position", "created", "updated", "won_at", "lost_at",
}  # fmt: skip


def test_a_lead_answers_with_every_model_field_and_its_links(client, login, stages):
    from leads.models import Lead

    login("viewer")
    contact = ContactFactory()
    lead = services.lead_create(actor=None, title="Deal", contact=contact, company_name="Acme", source_ref="42")

    body = client.get(reverse("leads_api:lead_detail", args=[lead.pk])).json()

    assert {field.name for field in Lead._meta.concrete_fields} - {"id"} <= {
        name.removesuffix("_id") for name in MODEL_FIELDS
    }
    assert set(body) >= MODEL_FIELDS
    assert body["company_name"] == "Acme" and body["source_ref"] == "42"
    assert body["links"] == {
        "page": reverse("leads:lead_detail", args=[lead.pk]),
        "customer": reverse("customers_api:customer_detail", args=[contact.customer_id]),
        "contact": reverse("customers_api:contact_detail", args=[contact.pk]),
    }


def test_prospect_fields_are_written_on_create_and_patch(client, login, pipeline):
    login("sales")
    response = client.post(
        LEADS,
        {"title": "Web form", "company_name": "Initech", "contact_email": "Bob@Initech.com", "source_ref": "form-1"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["company_name"], created["contact_email"]) == ("Initech", "bob@initech.com")
    assert created["links"]["customer"] is None

    response = client.patch(
        reverse("leads_api:lead_detail", args=[created["id"]]),
        {"company_domain": "initech.com", "contact_name": "Bob"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["company_domain"], response.json()["contact_name"]) == ("initech.com", "Bob")


def test_the_schema_documents_the_new_fields_and_filters(client, login):
    login("admin")
    schema = client.get(SCHEMA, {"format": "json"}).json()
    lead = schema["components"]["schemas"]["Lead"]["properties"]
    assert MODEL_FIELDS | {"links"} <= set(lead)
    assert "format" not in lead["contact_email"]  # empty when unknown: not an email address then
    parameters = {param["name"] for param in schema["paths"]["/api/v1/leads/"]["get"]["parameters"]}
    filters = {"tag", "value_min", "value_max", "close", "close_from", "close_to", "stalled", "won", "pipeline"}
    assert parameters >= filters


def test_list_filters_by_tag_and_value_through_the_api(client, login, stages):
    from .factories import LeadFactory

    login("viewer")
    LeadFactory(title="Tagged", stage=stages["Prospect"], tags=["vip"], value=5000)
    LeadFactory(title="Plain", stage=stages["Prospect"], value=5000)
    LeadFactory(title="Small", stage=stages["Prospect"], tags=["vip"], value=5)

    response = client.get(LEADS, {"tag": "vip", "value_min": 100})

    assert [lead["title"] for lead in response.json()["results"]] == ["Tagged"]
    assert client.get(LEADS, {"value_min": "1.5"}).status_code == 400
