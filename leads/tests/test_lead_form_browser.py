"""The lead form in the browser: the company and contact are found by typing and chosen with the keyboard."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def test_a_company_and_its_contact_are_chosen_by_typing_and_the_keyboard(live_stack, live_data, browser):
    from customers.tests.factories import ContactFactory, CustomerFactory
    from leads.models import Lead

    sam = live_data.create_user("sales", name="Sam Seller")
    token = uuid.uuid4().hex[:6]
    title = f"Rockets {token}"

    def make():
        company = CustomerFactory(name=f"Zeppelin {token} Rockets")
        CustomerFactory(name=f"Zeppelin {token} Balloons")
        jane = ContactFactory(customer=company, name=f"Jane {token}")
        ContactFactory(name=f"Jane {token} Elsewhere")
        return company, jane

    company, jane = live_data.run(make)
    live_data.add_cleanup(lambda: type(company).objects.filter(name__contains=token).delete())
    live_data.add_cleanup(lambda: Lead.objects.filter(title=title).delete())
    page = new_page(browser)
    sign_in(page, live_stack, sam, next_path="/leads/new/")

    page.locator("#id_title").fill(title)
    box = page.locator("#id_customer")
    box.press_sequentially(f"zeppelin {token}")
    options = page.locator("#id_customer_options [data-lookup-option]")
    expect(options).to_have_count(2)
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("Enter")  # chooses; does not send the form
    expect(box).to_have_value(f"Zeppelin {token} Rockets")
    expect(page.locator("#id_customer_value")).to_have_value(str(company.pk))

    contact = page.locator("#id_contact")
    contact.press_sequentially(f"jane {token}")
    expect(page.locator("#id_contact_options [data-lookup-option]")).to_have_count(1)  # only the company's
    contact.press("ArrowDown")
    contact.press("Enter")
    expect(page.locator("#id_contact_value")).to_have_value(str(jane.pk))

    page.locator("[data-testid=lead-save]").click()
    expect(page).to_have_url(re.compile(r"/leads/\d+/$"))  # the lead's page, not the page inside the form
    expect(page.locator("#modal.show")).to_have_count(0)
    lead = live_data.run(lambda: Lead.objects.get(title=title))
    assert (lead.customer_id, lead.contact_id) == (company.pk, jane.pk)
