"""Adding a customer in the browser, and a teammate watching the list sees it arrive live over the websocket."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in
from customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

ROWS = "#customer-rows [data-testid=customer-row]"
TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


def test_agent_adds_a_customer_and_a_teammate_sees_it_live(live_stack, live_data, browser):
    ada = live_data.create_user("agent", name="Ada Lovelace")
    grace = live_data.create_user("agent", name="Grace Hopper")
    name = f"Acme Rockets {uuid.uuid4().hex[:6]}"
    live_data.add_cleanup(lambda: Customer.objects.filter(name=name).delete())

    watcher = new_page(browser)
    watcher.add_init_script(TRACK_SOCKET)
    sign_in(watcher, live_stack, grace, next_path="/customers/")
    watcher.wait_for_function("() => window.sbSocketOpen === true")

    page = new_page(browser)
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, live_stack, ada, next_path="/customers/")
    page.wait_for_function("() => window.sbSocketOpen === true")
    page.click("[data-testid=customer-new]")
    modal = page.locator("#modal")
    modal.locator("[name=name]").fill(name)
    modal.locator("[name=domain]").fill(f"{name.split()[-1]}.example.com")
    modal.locator("[data-testid=customer-save]").click()

    expect(modal).to_be_hidden()
    expect(page.locator(ROWS).filter(has_text=name)).to_have_count(1)
    expect(watcher.locator("#toasts")).to_contain_text(f"Ada Lovelace added {name}")
    expect(watcher.locator(ROWS).filter(has_text=name)).to_have_count(1)
    # The push skips its author: by now Ada's copy would have arrived too, as a second row and a toast.
    expect(page.locator(ROWS).filter(has_text=name)).to_have_count(1)
    expect(page.locator("#toasts")).not_to_contain_text("Ada Lovelace added")


def _company_with_history(name: str) -> int:
    from customers.tests.factories import CustomerFactory, NoteFactory, TaskFactory

    customer = CustomerFactory(name=name)
    NoteFactory.create_batch(30, customer=customer, body="Older call notes")
    TaskFactory(customer=customer, title="Send the quote")
    return customer.pk


def test_agent_adds_a_note_sees_it_on_the_timeline_filters_and_loads_older(live_stack, live_data, browser):
    ada = live_data.create_user("agent", name="Ada Lovelace")
    name = f"Timeline Co {uuid.uuid4().hex[:6]}"
    customer_id = live_data.run(lambda: _company_with_history(name))
    live_data.add_cleanup(lambda: Customer.objects.filter(name=name).delete())
    entries = "[data-testid=timeline-entry]"

    page = new_page(browser)
    sign_in(page, live_stack, ada, next_path=f"/customers/{customer_id}/")
    expect(page.locator(entries)).to_have_count(25)
    page.locator("#id_note_body").fill("Renewal signed **today**")
    page.locator("#id_note_body").press("Tab")
    page.keyboard.press("Tab")  # past "Pin to the top", to the button: keyboard only
    page.keyboard.press("Enter")

    expect(page.locator("[data-testid=note]").first).to_contain_text("Renewal signed today")
    expect(page.locator(entries).first).to_contain_text("Renewal signed today")  # the timeline reloaded
    page.click("[data-testid=timeline-more]")
    expect(page.locator(entries)).to_have_count(32)
    page.click("label[for=timeline-kind-task]")
    expect(page.locator(entries)).to_have_count(1)
    expect(page.locator(entries).first).to_contain_text("Send the quote")
