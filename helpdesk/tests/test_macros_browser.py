"""Macros in a browser: an agent types `/` in the reply box, narrows the list, closes it with Escape, opens it
again, picks a macro with the keyboard, sees what it will change, and sends with Ctrl+Enter: the reply has the
requester's first name, and the ticket's status and tags changed. And the macro menu: actions only, previewed,
applied without reloading the page."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import axe_violations, new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def test_an_agent_applies_a_macro_with_slash(live_stack, live_data, browser):
    from customers.tests.factories import ContactFactory
    from helpdesk.models import Macro, MacroUse, Ticket, TicketMessage
    from helpdesk.tests.factories import MacroFactory, TicketFactory

    agent = live_data.create_user("agent", name="Ada Lovelace")
    marker = f"m{uuid.uuid4().hex[:8]}"

    def rows() -> tuple[int, int]:
        ticket = TicketFactory(
            subject=f"Invoice twice {marker}", status="open", requester=ContactFactory(name="Hank Scorpio")
        )
        macro = MacroFactory(
            name=f"Billing follow-up {marker}",
            reply_text="Hi {{ ticket.requester.first_name }},\n\nWe refunded the second charge.",
            actions=[{"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["billing"]}],
            usage_count=3,
        )
        MacroFactory(name=f"Password reset {marker}", reply_text="Reset it here.", actions=[])
        return ticket.pk, macro.pk

    ticket_id, macro_id = live_data.run(rows)
    live_data.add_cleanup(lambda: Macro.objects.filter(name__endswith=marker).delete())

    page = new_page(browser)
    problems = watch_page_errors(page)
    sign_in(page, live_stack, agent, next_path=f"/tickets/{ticket_id}/")

    body = page.locator("[data-testid=composer-body]")
    picker = page.locator("[data-testid=macro-picker]")
    options = page.locator("[data-testid=macro-option]")
    body.click()
    page.keyboard.type("/")
    expect(picker).to_be_visible()
    expect(options.filter(has_text=marker)).to_have_count(2)
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(body).to_be_focused()  # Escape closed the list, not the box

    page.keyboard.type("bill")
    expect(picker).to_be_visible()
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("aria-selected", "true")
    assert axe_violations(page) == []  # the open list, named and labelled
    page.keyboard.press("Enter")

    expect(picker).to_be_hidden()
    expect(page.locator("[data-testid=macro-changes]")).to_have_text(
        "This macro will: set status to Pending, add tag billing."
    )
    expect(body).to_have_value("Hi Hank,\n\nWe refunded the second charge.")
    assert live_data.run(lambda: Ticket.objects.get(pk=ticket_id).status) == "open"  # nothing before sending
    assert axe_violations(page) == []  # the panel

    body.focus()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#toasts")).to_contain_text(f"Reply sent on #{ticket_id}.")
    expect(page.locator("[data-testid=macro-panel]")).to_have_count(0)

    def sent() -> tuple[str, list[str], str, int, int]:
        ticket = Ticket.objects.get(pk=ticket_id)
        message = TicketMessage.objects.get(ticket=ticket)
        macro = Macro.objects.get(pk=macro_id)
        return ticket.status, ticket.tags, message.body, macro.usage_count, MacroUse.objects.filter(macro=macro).count()

    status, tags, text, usage, uses = live_data.run(sent)
    assert status == "pending" and "billing" in tags
    assert text.startswith("Hi Hank,")
    assert (usage, uses) == (4, 1)
    assert problems == []


def test_the_macro_menu_applies_actions_without_a_reply_and_keeps_the_reply_being_written(
    live_stack, live_data, browser
):
    from helpdesk.models import Macro, Ticket
    from helpdesk.tests.factories import MacroFactory, TicketFactory

    agent = live_data.create_user("agent", name="Ada Lovelace")
    marker = f"m{uuid.uuid4().hex[:8]}"

    def rows():
        ticket = TicketFactory(subject=f"Invoice twice {marker}", status="open")
        MacroFactory(
            name=f"Urgent {marker}",
            reply_text="",
            actions=[{"type": "set_priority", "value": "urgent"}, {"type": "add_note", "value": "Escalated **now**"}],
        )
        return ticket.pk

    ticket_id = live_data.run(rows)
    live_data.add_cleanup(lambda: Macro.objects.filter(name__endswith=marker).delete())
    page = new_page(browser)
    problems = watch_page_errors(page)
    sign_in(page, live_stack, agent, next_path=f"/tickets/{ticket_id}/")
    page.locator("[data-testid=composer-body]").fill("half-written reply")
    page.locator("[data-testid=macro-menu]").click()
    page.locator("[data-testid=macro-menu-item]").filter(has_text=marker).click()
    expect(page.locator("[data-testid=macro-apply-panel]")).to_contain_text(
        "set priority to Urgent, add an internal note"
    )
    page.locator("[data-testid=macro-apply-confirm]").click()
    expect(page.locator("[data-testid=macro-apply-panel]")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text(f"Applied the macro “Urgent {marker}” (2 changes).")
    expect(page.locator("#ticket-thread")).to_contain_text("Escalated now")
    expect(page.locator("[data-testid=composer-body]")).to_have_value("half-written reply")
    assert live_data.run(lambda: Ticket.objects.get(pk=ticket_id).priority) == "urgent"
    assert problems == []
