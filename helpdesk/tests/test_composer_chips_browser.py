"""The composer's To/CC/BCC boxes as address chips (static/js/address_chips.js): typed with Enter or a comma,
removed with Backspace or their button, pasted as a list, a wrong address named in an error; the form still posts
the same fields, and the reply goes to the chips."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

PASTE = """([selector, text]) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  document.querySelector(selector).dispatchEvent(
    new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def test_cc_chips_are_typed_pasted_removed_and_checked_and_the_reply_goes_to_them(live_stack, live_data, browser):
    from helpdesk.models import Ticket
    from helpdesk.tests.factories import TicketFactory

    agent = live_data.create_user("agent", name="Ada Lovelace")
    subject = f"Printer jam {uuid.uuid4().hex[:8]}"
    values = {"subject": subject, "status": "open", "channel": Ticket.Channel.EMAIL, "requester__email": "ann@c.test"}
    ticket = live_data.run(lambda: TicketFactory(**values))
    live_data.add_cleanup(lambda: type(ticket.customer).objects.filter(pk=ticket.customer_id).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(pk=ticket.pk).delete())

    page = new_page(browser)
    sign_in(page, live_stack, agent, next_path=f"/tickets/{ticket.pk}/")
    to_chips = page.locator("[data-testid=composer-to-chips] [data-testid=address-chip]")
    cc_chips = page.locator("[data-testid=composer-cc-chips] [data-testid=address-chip]")
    cc = page.locator("[data-testid=composer-cc-input]")
    expect(to_chips).to_have_text(["ann@c.test"])
    expect(page.get_by_label("CC", exact=True)).to_have_count(1)  # the label names the box one types in

    cc.fill("bob@c.test")
    cc.press("Enter")
    cc.type("Carol@C.test,")
    expect(cc_chips).to_have_text(["bob@c.test", "carol@c.test"])
    expect(cc).to_have_value("")

    cc.type("not-an-address")
    cc.press("Enter")
    error = page.locator("[data-testid=composer-cc-chips-error]")
    expect(error).to_have_text("CC: “not-an-address” is not an email address.")
    expect(cc).to_have_attribute("aria-invalid", "true")
    expect(cc_chips).to_have_count(2)
    cc.fill("")
    cc.press("Backspace")
    expect(cc_chips).to_have_text(["bob@c.test"])
    expect(page.get_by_role("button", name="Remove bob@c.test")).to_be_visible()

    page.evaluate(PASTE, ["[data-testid=composer-cc-input]", "Dan Brown <dan@c.test>; eve@c.test, bob@c.test"])
    expect(cc_chips).to_have_text(["bob@c.test", "dan@c.test", "eve@c.test"])
    expect(error).to_be_hidden()
    expect(page.locator("input[type=hidden][name=cc]")).to_have_value("bob@c.test, dan@c.test, eve@c.test")

    page.locator("[data-testid=composer-body]").fill("Cleared the jam.")
    page.locator("[data-testid=composer-body]").press("Control+Enter")

    sent = page.locator("#ticket-thread [data-testid=thread-message]").filter(has_text="Cleared the jam.")
    expect(sent.locator("[data-testid=message-recipients]")).to_have_text(
        "To ann@c.test · CC bob@c.test, dan@c.test, eve@c.test"
    )
