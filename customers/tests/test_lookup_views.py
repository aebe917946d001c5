"""Search-as-you-type options for other apps' forms: companies and contacts, who may ask, what comes back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_company_lookup_puts_names_starting_with_the_text_first_and_carries_ids(client, login):
    login("sales")
    inside = CustomerFactory(name="Global Acme Works", domain="gaw.example")
    first = CustomerFactory(name="Acme Corporation", domain="acme.example")
    CustomerFactory(name="Initech")

    html = client.get(reverse("customers:customer_lookup"), {"customer_search": "acme"}).content.decode()

    assert html.index("Acme Corporation") < html.index("Global Acme Works")
    assert f'data-value="{first.pk}"' in html and f'data-value="{inside.pk}"' in html
    assert "acme.example" in html and "Initech" not in html


def test_company_lookup_says_when_nothing_matches(client, login):
    login("agent")

    html = client.get(reverse("customers:customer_lookup"), {"q": "zzz-nothing"}).content.decode()

    assert "Nothing matches “zzz-nothing”." in html and "data-lookup-option" not in html


def test_contact_lookup_keeps_to_the_chosen_company(client, login):
    login("sales")
    acme = CustomerFactory(name="Acme")
    mine = ContactFactory(customer=acme, name="Jane Roe", email="jane@acme.example")
    ContactFactory(name="Jane Doe", email="jane@other.example")

    html = client.get(reverse("customers:contact_lookup"), {"contact_search": "jane", "customer": acme.pk}).content
    everyone = client.get(reverse("customers:contact_lookup"), {"contact_search": "jane"}).content.decode()

    assert f'data-value="{mine.pk}"'.encode() in html and b"Jane Doe" not in html
    assert "Jane Doe" in everyone and "· Acme" in everyone  # without a company, each says whose it is


def test_contact_lookup_ignores_a_company_id_too_big_for_an_id(client, login):
    login("sales")
    ContactFactory(name="Jane Roe")

    response = client.get(reverse("customers:contact_lookup"), {"q": "jane", "customer": "9" * 30})

    assert response.status_code == 200 and "Jane Roe" in response.content.decode()


def test_lookups_need_a_signed_in_member(client):
    assert client.get(reverse("customers:customer_lookup"), {"q": "a"}).status_code in (302, 403)
