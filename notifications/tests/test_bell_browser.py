"""In two browsers: a teammate @mentioned in an internal note sees the bell count rise without a reload; and with
email muted in their preferences, the in-app notice still arrives (and no email is queued)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"
COUNT = "#notification-count"


def _open(browser, live_stack, user, path: str):
    page = new_page(browser)
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, live_stack, user, next_path=path)
    page.wait_for_function("() => window.sbSocketOpen === true")
    return page


def _ticket(live_data) -> int:
    from helpdesk.tests.factories import TicketFactory

    subject = f"Printer on fire {uuid.uuid4().hex[:8]}"
    return live_data.run(lambda: TicketFactory(subject=subject).pk)


def _forget_dispatches(live_data) -> None:
    from notifications.models import Dispatch

    mark = live_data.run(lambda: Dispatch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    live_data.add_cleanup(lambda: Dispatch.objects.filter(pk__gt=mark).delete())


def _note(page, text: str) -> None:
    page.locator("[data-testid=composer-tab-note]").click()
    page.locator("[data-testid=composer-body]").fill(text)
    page.locator("[data-testid=composer-send]").click()


def test_a_mentioned_teammate_sees_the_bell_count_rise_live(live_stack, live_data, browser):
    ada = live_data.create_user("agent", name="Ada Lovelace")
    grace = live_data.create_user("agent", name="Grace Hopper")
    _forget_dispatches(live_data)
    ticket_id = _ticket(live_data)

    watcher = _open(browser, live_stack, grace, "/notifications/")
    expect(watcher.locator(COUNT)).to_have_attribute("data-count", "0")
    page = _open(browser, live_stack, ada, f"/tickets/{ticket_id}/")

    # The composer offers the teammate as the agent types "@Gra"; Enter inserts the full name.
    page.locator("[data-testid=composer-tab-note]").click()
    body = page.locator("[data-testid=composer-body]")
    body.press_sequentially("@Gra")
    expect(page.locator("[data-testid=mention-menu]")).to_contain_text("Grace Hopper")
    body.press("Enter")
    body.press_sequentially("could you check the warranty?")
    expect(body).to_have_value("@Grace Hopper could you check the warranty?")
    page.locator("[data-testid=composer-send]").click()

    expect(watcher.locator(COUNT)).to_have_attribute("data-count", "1", timeout=15_000)
    expect(watcher.locator(COUNT)).to_be_visible()
    expect(watcher.locator("#toasts")).to_contain_text(f"Ada Lovelace mentioned you on #{ticket_id}")
    # The dropdown lists it; opening it marks it read and lands on the ticket.
    watcher.locator("[data-testid=notification-bell]").click()
    item = watcher.locator("[data-testid=notification-latest]").get_by_text(f"mentioned you on #{ticket_id}")
    expect(item).to_be_visible()
    with watcher.expect_navigation():
        item.click()
    assert watcher.url.endswith(f"/tickets/{ticket_id}/")
    expect(watcher.locator(COUNT)).to_have_attribute("data-count", "0")


def test_muting_email_keeps_the_in_app_notice(live_stack, live_data, browser):
    from notifications.models import Delivery

    ada = live_data.create_user("agent", name="Ada Byron")
    grace = live_data.create_user("agent", name="Grace Brewster")
    _forget_dispatches(live_data)
    ticket_id = _ticket(live_data)

    watcher = _open(browser, live_stack, grace, "/notifications/preferences/")
    box = watcher.locator("[data-testid='pref-ticket.mentioned-email']")
    expect(box).to_be_checked()
    box.uncheck()
    with watcher.expect_navigation():
        watcher.locator("[data-testid=preferences-save]").click()
    expect(watcher.locator("[data-testid='pref-ticket.mentioned-email']")).not_to_be_checked()
    expect(watcher.locator("[data-testid='pref-ticket.mentioned-in_app']")).to_be_checked()
    watcher.wait_for_function("() => window.sbSocketOpen === true")

    page = _open(browser, live_stack, ada, f"/tickets/{ticket_id}/")
    _note(page, "@Grace Brewster have a look please")

    expect(watcher.locator(COUNT)).to_have_attribute("data-count", "1", timeout=15_000)
    channels = live_data.run(
        lambda: sorted(Delivery.objects.filter(user_id=grace.user.pk).values_list("channel", flat=True))
    )
    assert channels == ["in_app"]
