"""The ticket list's weight and density: compact rows, gzip on the wire, a remembered compact density."""

from __future__ import annotations

import gzip
import re

import pytest
from django.urls import reverse

from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.live import row_inserted_oob
from helpdesk.tests.factories import TicketFactory
from helpdesk.views.tickets import DENSITY_COOKIE

pytestmark = pytest.mark.django_db

LIST = reverse("tickets:ticket_list")
DENSITY = reverse("tickets:ticket_list_density")


def _fifty_tickets(agent) -> None:
    customer = CustomerFactory(name="International Consolidated Widgets & Sprockets Holdings")
    for number in range(50):
        requester = ContactFactory(customer=customer, name=f"Maximilian Featherstonehaugh-Smythe {number}")
        TicketFactory(
            subject=f"Invoice {number} was charged twice after the plan change in November",
            requester=requester,
            customer=customer,
            assignee=agent,
            priority="high",
            tags=["billing", "vip"],
        )


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr id="ticket-row-\d+".*?</tr>', html, flags=re.DOTALL)


def test_fifty_rows_stay_compact_and_travel_gzipped(client, login):
    _fifty_tickets(login("agent"))

    plain = client.get(LIST)
    zipped = client.get(LIST, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    rows = _rows(plain.content.decode())
    assert len(rows) == 50
    assert max(len(row.encode()) for row in rows) < 1000  # 1.6 KB each before
    assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
    assert len(zipped.content) < 15_000 and gzip.decompress(zipped.content).count(b'id="ticket-row-') == 50


def test_rows_on_the_page_leave_the_live_filter_data_to_pushed_rows(client, login):
    agent = login("agent")
    ticket = TicketFactory(assignee=agent, tags=["vip"])

    listed = _rows(client.get(LIST).content.decode())[0]
    pushed = row_inserted_oob(ticket.pk)

    assert f'data-ticket-id="{ticket.pk}"' in listed and "data-status=" not in listed
    assert f'data-assignee="{agent.pk}"' in pushed and 'data-tags="vip"' in pushed and 'data-status="' in pushed


def test_compact_density_is_remembered_and_returns_to_the_same_list(client, login):
    login("agent")
    TicketFactory()

    response = client.post(DENSITY, {"density": "compact", "next": f"{LIST}?status=open"})
    page = client.get(LIST).content.decode()

    assert response.status_code == 302 and response["Location"] == f"{LIST}?status=open"
    assert response.cookies[DENSITY_COOKIE].value == "compact" and response.cookies[DENSITY_COOKIE]["httponly"]
    assert re.search(r'<table class="[^"]*\bsb-compact\b', page)
    assert 'data-testid="density-toggle"' in page and 'aria-pressed="true"' in page


def test_comfortable_density_is_the_default_and_can_come_back(client, login):
    login("agent")
    client.post(DENSITY, {"density": "compact"})

    client.post(DENSITY, {"density": "comfortable"})
    page = client.get(LIST).content.decode()

    assert not re.search(r'<table class="[^"]*\bsb-compact\b', page) and 'aria-pressed="false"' in page


@pytest.mark.parametrize("target", ["https://evil.example/tickets/", "//evil.example/", "/settings/ai/"])
def test_density_goes_back_only_to_the_ticket_list(client, login, target):
    login("agent")

    response = client.post(DENSITY, {"density": "compact", "next": target})

    assert response["Location"] == LIST


def test_density_needs_a_signed_in_member(client):
    assert client.post(DENSITY, {"density": "compact"}).status_code == 302
    assert DENSITY_COOKIE not in client.cookies
