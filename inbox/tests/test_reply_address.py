"""Reply addresses name their ticket, and only a correctly signed one is believed."""

from __future__ import annotations

import pytest

from inbox.reply_address import reply_address, ticket_from_address

pytestmark = pytest.mark.django_db


def test_a_reply_address_names_its_ticket():
    address = reply_address("support@acme.test", 123)

    assert address.startswith("support+t123-") and address.endswith("@acme.test")
    assert ticket_from_address(f"Acme Support <{address.upper()}>") == 123


def test_a_guessed_or_tampered_reply_address_names_no_ticket():
    address = reply_address("support@acme.test", 123)

    assert ticket_from_address(address.replace("+t123-", "+t124-")) is None
    assert ticket_from_address("support@acme.test") is None


def test_another_workspace_signs_differently(tenant, other_tenant):
    from django.db import connection

    ours = reply_address("support@acme.test", 5)
    connection.set_tenant(other_tenant)
    try:
        assert ticket_from_address(ours) is None
    finally:
        connection.set_tenant(tenant)
