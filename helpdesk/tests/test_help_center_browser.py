"""An anonymous visitor sends a request from the help center and sees the confirmation; a signed-in agent sees
the new ticket arrive live and finds it in the ticket list."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


def test_a_visitor_submits_a_request_and_an_agent_sees_the_ticket(live_stack, live_data, browser):
    from customers.facade import INDIVIDUALS
    from customers.models import Contact, Customer
    from helpdesk.models import Ticket

    agent = live_data.create_user("agent", name="Ada Lovelace")
    marker = uuid.uuid4().hex[:8]
    subject = f"Invoice download broken {marker}"
    email = f"visitor-{marker}@example.com"
    # Cleanups run last-added first: the ticket, its requester, then the shared customer of personal addresses.
    live_data.add_cleanup(lambda: Customer.objects.filter(name=INDIVIDUALS, contacts__isnull=True).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email=email).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(subject=subject).delete())

    watcher = new_page(browser)
    watcher.add_init_script(TRACK_SOCKET)
    sign_in(watcher, live_stack, agent, next_path="/kb/")
    watcher.wait_for_function("() => window.sbSocketOpen === true")

    visitor = new_page(browser)  # its own context: no session, no cookies
    visitor.goto(live_stack.url("alpha", "/help/"))
    visitor.click("[data-testid=help-request-link]")
    form = visitor.locator("[data-testid=request-form]")
    form.locator("[name=name]").fill("Vera Visitor")
    form.locator("[name=email]").fill(email)
    form.locator("[name=subject]").fill(subject)
    form.locator("[name=description]").fill("Clicking Download on the invoice page does nothing.")
    with visitor.expect_navigation():
        form.locator("[data-testid=request-submit]").click()

    confirmation = visitor.locator("[data-testid=request-received]")
    expect(confirmation).to_contain_text("We received your request #")
    expect(visitor.locator("h2")).to_contain_text(subject)
    number = live_data.run(lambda: Ticket.objects.get(subject=subject).pk)
    expect(confirmation).to_contain_text(f"#{number}")

    expect(watcher.locator("#toasts")).to_contain_text(f"New ticket #{number}: {subject}")
    watcher.goto(live_stack.url("alpha", "/tickets/"))
    expect(watcher.locator("body")).to_contain_text(subject)
