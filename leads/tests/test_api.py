"""The lead REST API: list with filters, create, retrieve, change, move, errors and permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.tests.factories import ContactFactory
from leads import services
from leads.models import Lead

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

LEADS = reverse("leads_api:lead_list")


def lead_url(lead_id: int, name: str = "lead_detail") -> str:
    return reverse(f"leads_api:{name}", args=[lead_id])


def post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def test_list_leads_filtered_and_sorted(client, login, stages):
    login("viewer")
    LeadFactory(title="Small", stage=stages["Prospect"], value=10, source="referral")
    LeadFactory(title="Large", stage=stages["Prospect"], value=900, source="referral")
    LeadFactory(title="Other", stage=stages["Prospect"], source="website")

    response = client.get(LEADS, {"source": "referral", "sort": "-value"})

    assert response.status_code == 200
    body = response.json()
    assert [lead["title"] for lead in body["results"]] == ["Large", "Small"]
    assert body["results"][0]["stage"]["name"] == "Prospect"


def test_list_refuses_bad_filters_with_a_sentence(client, login):
    login("viewer")
    response = client.get(LEADS, {"owner": "someone"})
    assert response.status_code == 400 and "owner" in response.json()["error"]["fields"]


def test_create_retrieve_and_patch_a_lead(client, login, pipeline):
    login("sales")
    contact = ContactFactory()

    response = post(client, LEADS, {"title": "API deal", "contact_id": contact.pk, "value": 250.5})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["customer"]["id"] == contact.customer_id and created["probability"] == 10
    assert created["value"] == 250.5

    response = client.patch(lead_url(created["id"]), {"title": "Renamed"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["title"] == "Renamed"
    assert client.get(lead_url(created["id"])).json()["title"] == "Renamed"


def test_move_needs_a_lost_reason_for_lost_stages(client, login, stages):
    login("sales")
    lead = services.lead_create(actor=None, title="Deal")

    response = post(client, lead_url(lead.pk, "lead_move"), {"stage_id": stages["Lost"].pk})
    assert response.status_code == 400 and "lost_reason" in response.json()["error"]["fields"]

    response = post(client, lead_url(lead.pk, "lead_move"), {"stage_id": stages["Lost"].pk, "lost_reason": "Price"})
    assert response.status_code == 200 and response.json()["stage"]["kind"] == "lost"
    assert response.json()["lost_reason"] == "Price"


def test_agents_read_leads_but_may_not_write(client, login, stages):
    login("agent")
    lead = LeadFactory(stage=stages["Prospect"])
    assert client.get(lead_url(lead.pk)).status_code == 200
    assert post(client, LEADS, {"title": "Nope"}).status_code == 403
    assert post(client, lead_url(lead.pk, "lead_move"), {"stage_id": stages["Won"].pk}).status_code == 403
    assert Lead.objects.count() == 1


def test_unknown_lead_is_a_json_404(client, login):
    login("viewer")
    response = client.get(lead_url(999999))
    assert response.status_code == 404 and "999999" in response.json()["error"]["message"]
