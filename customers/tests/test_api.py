"""The customer and contact REST API: list, create, retrieve, change, delete, errors and permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Contact, Customer

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("customers_api:customer_list")
CONTACTS = reverse("customers_api:contact_list")


def customer_url(customer_id: int) -> str:
    return reverse("customers_api:customer_detail", args=[customer_id])


def contact_url(contact_id: int) -> str:
    return reverse("customers_api:contact_detail", args=[contact_id])


def post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def patch(client, path: str, data: dict):
    return client.patch(path, data, content_type="application/json")


# --- Customers ----------------------------------------------------------------------------------


def test_list_customers_with_search_filter_and_counts(client, login):
    login("viewer")
    acme = CustomerFactory(name="Acme", tier="enterprise", tags=["vip"])
    ContactFactory.create_batch(2, customer=acme)
    CustomerFactory(name="Acme Junior", tier="free")
    CustomerFactory(name="Globex", tier="enterprise")

    response = client.get(CUSTOMERS, {"q": "acme", "tier": "enterprise"})

    assert response.status_code == 200
    body = response.json()
    assert [row["name"] for row in body["results"]] == ["Acme"]
    assert body["results"][0]["contact_count"] == 2
    assert body["results"][0]["tags"] == ["vip"]
    assert set(body) == {"next", "previous", "results"}


def test_list_pages_with_cursors_without_gaps_on_ties(client, login):
    login("viewer")
    for index in range(7):
        CustomerFactory(name="Same name" if index < 5 else f"Other {index}", tier="free")

    seen, url = [], f"{CUSTOMERS}?sort=tier&page_size=2"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert len(seen) == len(set(seen)) == 7


def test_list_previous_link_goes_back(client, login):
    login("viewer")
    for index in range(5):
        CustomerFactory(name=f"C{index}")

    first = client.get(CUSTOMERS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()

    assert [row["name"] for row in back["results"]] == [row["name"] for row in first["results"]] == ["C0", "C1"]
    assert first["previous"] is None


def test_list_rejects_invalid_filters_with_field_errors(client, login):
    login("viewer")

    response = client.get(CUSTOMERS, {"tier": "gold", "owner": "someone"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"tier", "owner"}


def test_list_query_count_is_constant(client, login, django_assert_max_num_queries):
    login("viewer")
    for index in range(20):
        ContactFactory(customer=CustomerFactory(name=f"C{index}"))
    client.get(CUSTOMERS)  # warms the host → workspace cache, which a cold start adds two queries for

    with django_assert_max_num_queries(4):  # session, user, page, (no count for the API)
        response = client.get(CUSTOMERS, {"page_size": 20})

    assert len(response.json()["results"]) == 20


def test_create_customer(client, login, make_user):
    login("agent")
    owner = make_user("sales")

    response = post(
        client,
        CUSTOMERS,
        {"name": "Acme", "domain": "www.Acme.com", "tier": "enterprise", "owner_id": owner.pk, "tags": ["VIP"]},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["domain"], body["tags"], body["owner"]["id"], body["contact_count"]) == (
        "acme.com",
        ["vip"],
        owner.pk,
        0,
    )
    assert Customer.objects.get().name == "Acme"


def test_create_customer_validation_errors_are_400_with_fields(client, login):
    login("agent")

    response = post(client, CUSTOMERS, {"name": "", "domain": "nope", "tier": "gold", "owner_id": 999_999})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "Some fields are not valid; see `fields`."
    assert set(error["fields"]) == {"name", "domain", "tier", "owner_id"}
    assert error["fields"]["domain"][0].startswith("Send a domain name like acme.com")
    assert error["fields"]["owner_id"] == ["No active teammate has the id 999999."]
    assert not Customer.objects.exists()


def test_retrieve_customer_and_404_for_unknown_ids(client, login):
    login("viewer")
    customer = CustomerFactory(name="Acme")

    assert client.get(customer_url(customer.pk)).json()["name"] == "Acme"
    missing = client.get(customer_url(999_999))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_patch_changes_only_the_given_fields(client, login):
    login("agent")
    customer = CustomerFactory(name="Acme", industry="Retail", tier="free")

    response = patch(client, customer_url(customer.pk), {"tier": "professional"})

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.industry, customer.tier) == ("Acme", "Retail", "professional")
    assert patch(client, customer_url(customer.pk), {"tier": "gold"}).status_code == 400


def test_delete_needs_the_delete_capability(client, login):
    customer = CustomerFactory()
    login("agent")
    refused = client.delete(customer_url(customer.pk))
    assert refused.status_code == 403
    assert "customers.delete" in refused.json()["error"]["message"]

    login("admin")
    assert client.delete(customer_url(customer.pk)).status_code == 204
    assert not Customer.objects.exists()


def test_viewer_may_read_but_not_write(client, login):
    login("viewer")
    customer = CustomerFactory()

    assert client.get(CUSTOMERS).status_code == 200
    assert post(client, CUSTOMERS, {"name": "X"}).status_code == 403
    assert patch(client, customer_url(customer.pk), {"name": "X"}).status_code == 403
    assert client.delete(customer_url(customer.pk)).status_code == 403


def test_anonymous_calls_are_refused(client):
    response = client.get(CUSTOMERS)

    assert response.status_code in {401, 403}
    assert "error" in response.json()


def test_token_authentication(client, make_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user("viewer"))
    CustomerFactory(name="Acme")

    response = client.get(CUSTOMERS, HTTP_AUTHORIZATION=f"Token {token.key}")

    assert [row["name"] for row in response.json()["results"]] == ["Acme"]


# --- Contacts -----------------------------------------------------------------------------------


def test_contact_crud(client, login):
    login("agent")
    customer = CustomerFactory(name="Acme")

    created = post(client, CONTACTS, {"customer_id": customer.pk, "name": "Jane", "email": "JANE@acme.test"})
    assert created.status_code == 201, created.json()
    contact_id = created.json()["id"]
    assert created.json()["customer"]["name"] == "Acme"
    assert created.json()["email"] == "jane@acme.test"

    listed = client.get(CONTACTS, {"customer": customer.pk}).json()
    assert [row["id"] for row in listed["results"]] == [contact_id]

    changed = patch(client, contact_url(contact_id), {"title": "CTO"})
    assert changed.json()["title"] == "CTO" and changed.json()["name"] == "Jane"

    assert client.delete(contact_url(contact_id)).status_code == 204
    assert not Contact.objects.exists()


def test_contact_errors(client, login):
    login("agent")
    existing = ContactFactory(email="jane@acme.test")

    duplicate = post(client, CONTACTS, {"customer_id": existing.customer_id, "name": "J", "email": "jane@acme.test"})
    unknown_customer = post(client, CONTACTS, {"customer_id": 999_999, "name": "J"})
    bad_phone = patch(client, contact_url(existing.pk), {"phone": "call me maybe"})

    # Well-formed but taken: a conflict (409), like every "already exists".
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == {
        "code": "conflict",
        "message": f"jane@acme.test is already a contact at {existing.customer.name}.",
    }
    assert unknown_customer.json()["error"]["fields"]["customer_id"] == [
        "No customer has the id 999999 in this workspace."
    ]
    assert "phone" in bad_phone.json()["error"]["fields"]
    assert client.get(contact_url(999_999)).status_code == 404


def test_viewer_cannot_change_contacts(client, login):
    login("viewer")
    contact = ContactFactory()

    assert patch(client, contact_url(contact.pk), {"name": "X"}).status_code == 403
    assert client.delete(contact_url(contact.pk)).status_code == 403


def test_openapi_schema_documents_the_endpoints_without_warnings(tmp_path):
    import yaml
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert {"/api/v1/customers/", "/api/v1/customers/{customer_id}/", "/api/v1/contacts/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/customers/"]["get"]["parameters"]}
    assert {"q", "tier", "industry", "owner", "tag", "sort", "cursor", "page_size"} <= parameters


# --- Deleting what tickets still need: 409 with the reason, never a 500 ---------------------------------------


def test_deleting_a_customer_or_contact_with_tickets_answers_409_and_says_what_to_do(client, login):
    from helpdesk.tests.factories import TicketFactory

    login("admin")
    contact = ContactFactory(name="Rita")
    for _ in range(3):
        TicketFactory(requester=contact)

    customer_answer = client.delete(customer_url(contact.customer_id))
    contact_answer = client.delete(contact_url(contact.pk))

    assert customer_answer.status_code == 409
    assert customer_answer.json()["error"] == {
        "code": "conflict",
        "message": "This customer still has 3 tickets. Reassign or delete them first.",
    }
    assert contact_answer.status_code == 409
    assert (
        contact_answer.json()["error"]["message"] == "This contact still has 3 tickets. Reassign or delete them first."
    )
    assert Customer.objects.filter(pk=contact.customer_id).exists() and Contact.objects.filter(pk=contact.pk).exists()


def test_a_customer_without_tickets_is_still_deleted_with_its_contacts(client, login):
    login("admin")
    contact = ContactFactory()

    assert client.delete(customer_url(contact.customer_id)).status_code == 204
    assert not Contact.objects.exists()


def test_json_values_of_the_wrong_type_are_refused_not_converted(client, login):
    login("agent")

    response = post(client, CUSTOMERS, {"name": 0, "tags": ["vip", 7], "tier": True})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "name": ["Send text."],
        "tags": {"1": ["Send text."]},
        "tier": ["Send text."],
    }
    assert not Customer.objects.exists()


def test_text_is_measured_as_sent_like_the_schema_measures_it(client, login):
    login("agent")

    padded = post(client, CUSTOMERS, {"name": "  " + "A" * 199})  # 199 after trimming, 201 as sent

    assert padded.status_code == 400
    assert padded.json()["error"]["fields"]["name"] == ["Ensure this field has no more than 200 characters."]
