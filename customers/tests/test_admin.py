"""Customers in the workspace's own Django admin."""

from __future__ import annotations

import pytest
from django.contrib import admin

from accounts.admin_site import workspace_admin_site
from customers.models import Contact, Customer

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_customers_are_on_the_workspace_admin_not_the_platform_admin():
    assert workspace_admin_site.is_registered(Customer) and workspace_admin_site.is_registered(Contact)
    assert not admin.site.is_registered(Customer)


def test_owner_lists_searches_and_edits_customers_with_their_contacts(client, make_user):
    client.force_login(make_user("owner", is_staff=True))
    acme = CustomerFactory(name="Acme", domain="acme.test")
    ContactFactory(customer=acme, name="Jane Doe", email="jane@acme.test")
    CustomerFactory(name="Globex")

    listing = client.get("/admin/customers/customer/", {"q": "jane@acme"})
    change = client.get(f"/admin/customers/customer/{acme.pk}/change/")

    assert listing.status_code == 200
    assert "Acme" in listing.content.decode() and "Globex" not in listing.content.decode()
    assert change.status_code == 200
    assert "Jane Doe" in change.content.decode()  # the contact inline
    assert client.get("/admin/customers/contact/").status_code == 200


def test_agents_do_not_get_into_the_admin(client, make_user):
    client.force_login(make_user("agent", is_staff=True))

    response = client.get("/admin/customers/customer/")

    assert response.status_code in {302, 403}
