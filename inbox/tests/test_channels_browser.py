"""In the browser: an admin connects an IMAP support address, tests the connection, and sees it turn green."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in, watch_page_errors
from inbox.models import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def test_admin_connects_an_imap_mailbox_and_it_turns_green(live_stack, live_data, browser, imap_account):
    admin = live_data.create_user("admin", name="Ada Admin")
    address = f"help-{uuid.uuid4().hex[:8]}@alpha.test"
    live_data.add_cleanup(lambda: Mailbox.objects.filter(address=address).delete())

    page = new_page(browser)
    errors = watch_page_errors(page)
    sign_in(page, live_stack, admin, next_path="/settings/channels/")
    page.click("[data-testid=channel-connect] >> nth=0")
    page.click("[data-testid=channel-kind-imap]")
    form = page.locator("[data-testid=channel-form]")
    form.locator("[name=address]").fill(address)
    form.locator("[name=name]").fill("Support")
    form.locator("[name=host]").fill("127.0.0.1")
    form.locator("[name=port]").fill(str(imap_account.server.port))
    form.locator("[name=username]").fill(imap_account.username)
    form.locator("[name=password]").fill("not-the-password")
    with page.expect_navigation():
        form.locator("[name=password]").press("Enter")  # the keyboard submits the form

    expect(page.locator("h1")).to_contain_text(address)
    expect(page.locator("[data-testid=secret-set]")).to_have_text("•••• set")
    page.click("[data-testid=test-connection]")
    expect(page.locator("[data-testid=connection-result]")).to_contain_text(
        "The server refused the user name or password"
    )
    expect(page.locator("[data-testid=channel-status]")).to_have_attribute("data-status", "failing")

    page.click("[data-testid=channel-edit]")
    page.locator("[name=password]").fill(imap_account.password)
    with page.expect_navigation():
        page.click("[data-testid=channel-save]")
    page.click("[data-testid=test-connection]")

    expect(page.locator("[data-testid=connection-result]")).to_contain_text("Connected to 127.0.0.1")
    expect(page.locator("[data-testid=channel-status]")).to_have_attribute("data-status", "connected")
    page.goto(live_stack.url("alpha", "/settings/channels/"))
    row = page.locator("[data-testid=channel-row]").filter(has_text=address)
    expect(row.locator("[data-testid=channel-status]")).to_have_text("Connected")
    assert errors == []
