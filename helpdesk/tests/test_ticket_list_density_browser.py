"""Compact density in a real browser at 1440×900: at least 15 whole rows above the fold, one line each, although
requesters and companies have long names; the choice survives a reload."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import TIMEOUT_MS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

# Rows whose bottom edge is inside the window: what an agent sees without scrolling.
ROWS_IN_VIEW = """() => Array.from(document.querySelectorAll("#ticket-rows tr[data-ticket-id]"))
  .filter((row) => { const box = row.getBoundingClientRect(); return box.top >= 0 && box.bottom <= innerHeight; })
  .map((row) => row.getBoundingClientRect().height)"""

NO_SIDEWAYS_SCROLL = """() => { const box = document.querySelector('[data-testid="ticket-table"]').parentElement;
  return box.scrollWidth <= box.clientWidth; }"""


def _long_named_tickets(live_data, count: int) -> None:
    from customers.models import Contact, Customer
    from customers.tests.factories import ContactFactory, CustomerFactory
    from helpdesk.models import Ticket
    from helpdesk.tests.factories import TicketFactory

    domain = f"density-{uuid.uuid4().hex[:8]}.example.org"

    def create() -> None:
        customer = CustomerFactory(name="International Consolidated Widgets & Sprockets Holdings plc", domain=domain)
        for number in range(count):
            TicketFactory(
                subject=f"Invoice {number} was charged twice after we changed plans in the middle of November",
                requester=ContactFactory(customer=customer, name=f"Maximilian Featherstonehaugh-Smythe {number}"),
                customer=customer,
                tags=["billing", "vip"],
            )
        # The widest "updated" a busy queue shows ("15 h 12 min ago"), as in the demo.
        Ticket.objects.filter(customer=customer).update(updated=timezone.now() - timedelta(hours=15, minutes=12))

    live_data.run(create)
    # Last added runs first: tickets, then their requesters, then the company they all point to.
    live_data.add_cleanup(lambda: Customer.objects.filter(domain=domain).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(customer__domain=domain).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(customer__domain=domain).delete())


def test_compact_density_shows_fifteen_whole_rows_at_1440_by_900(live_stack, live_data, browser):
    agent = live_data.create_user("agent")
    _long_named_tickets(live_data, 30)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, live_stack, agent, next_path="/tickets/")

    comfortable = page.evaluate(ROWS_IN_VIEW)
    with page.expect_navigation():
        page.get_by_test_id("density-toggle").click()
    compact = page.evaluate(ROWS_IN_VIEW)
    page.reload()

    assert len(comfortable) < 15  # what the agent saw: names wrapping onto two and three lines
    assert len(compact) >= 15, compact
    assert max(compact) < 40  # one line a row: no requester or company wraps
    assert page.evaluate(NO_SIDEWAYS_SCROLL)  # and every column fits: nothing hides behind a horizontal scroll
    expect(page.get_by_test_id("density-toggle")).to_have_attribute("aria-pressed", "true")
    assert len(page.evaluate(ROWS_IN_VIEW)) == len(compact)
