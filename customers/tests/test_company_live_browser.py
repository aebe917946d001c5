"""The company page in the browser: marking a company churned through its form (and back), and a note added by
one teammate appearing live on another's open page of the same company."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


def _company(live_data) -> int:
    from customers.models import Customer
    from customers.tests.factories import CustomerFactory

    name = f"Livewire {uuid.uuid4().hex[:6]}"
    customer_id = live_data.run(lambda: CustomerFactory(name=name).pk)
    live_data.add_cleanup(lambda: Customer.objects.filter(pk=customer_id).delete())
    return customer_id


def _open(browser, live_stack, user, path):
    page = new_page(browser)
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, live_stack, user, next_path=path)
    page.wait_for_function("() => window.sbSocketOpen === true")
    return page


def test_marking_a_company_churned_through_its_form(live_stack, live_data, browser):
    customer_id = _company(live_data)
    page = new_page(browser)
    sign_in(page, live_stack, live_data.create_user("agent"), next_path=f"/customers/{customer_id}/")
    card = page.locator("[data-testid=customer-churn]")

    card.locator("[data-testid=churn-mark-open]").click()
    card.locator("#churn-reason").fill("Moved to a competitor")
    with page.expect_navigation():
        card.locator("[data-testid=churn-mark-form] [type=submit]").click()

    card = page.locator("[data-testid=customer-churn]")
    expect(card.locator("[data-testid=churned-badge]")).to_be_visible()
    expect(card.locator("[data-testid=churned-on]")).to_contain_text("Moved to a competitor")

    with page.expect_navigation():
        card.locator("[data-testid=churn-unmark]").click()
    expect(page.locator("[data-testid=customer-churn] [data-testid=churned-badge]")).to_have_count(0)
    expect(page.locator("[data-testid=customer-churn] [data-testid=churn-mark-open]")).to_be_visible()


def test_a_note_added_by_a_teammate_appears_live_on_the_company_page(live_stack, live_data, browser):
    customer_id = _company(live_data)
    path = f"/customers/{customer_id}/"
    watcher = _open(browser, live_stack, live_data.create_user("agent", name="Walter Watcher"), path)
    page = _open(browser, live_stack, live_data.create_user("agent", name="Dana Scully"), path)
    text = f"Renewal call booked {uuid.uuid4().hex[:6]}"

    page.locator("[data-testid=note-form] textarea[name=body]").fill(text)
    page.locator("[data-testid=note-save]").click()
    expect(page.locator("[data-testid=note]", has_text=text)).to_have_count(1)

    expect(watcher.locator("#notes-tasks [data-testid=note]", has_text=text)).to_have_count(1)
    expect(watcher.locator("#toasts")).to_contain_text("Dana Scully added a note")
    # The watcher's panel is rendered for the watcher: its own form, ready for the next note.
    expect(watcher.locator("#notes-tasks [data-testid=note-form] textarea[name=body]")).to_have_value("")
