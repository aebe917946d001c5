"""The keys the shortcut help lists under "Everywhere" work on every workspace page, not only on ticket pages:
"?" opens the help, "/" focuses the page's search and Escape leaves it, "g" then "l" goes to the ticket list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


@pytest.mark.parametrize("path", ["/customers/", "/customers/contacts/", "/kb/", "/tickets/"])
def test_the_everywhere_shortcuts_work_on_every_page(path, live_stack, live_data, browser):
    agent = live_data.create_user("agent")
    page = new_page(browser, reduced_motion="reduce")
    sign_in(page, live_stack, agent, next_path=path)
    help_modal = page.locator("#shortcuts-modal")

    page.keyboard.press("?")
    expect(help_modal).to_be_visible()
    expect(help_modal).to_contain_text("Go to the ticket list")
    page.keyboard.press("Escape")
    expect(help_modal).to_be_hidden()

    page.keyboard.press("/")
    search = page.locator("[data-sb-search]")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")
    expect(search).not_to_be_focused()

    with page.expect_navigation():
        page.keyboard.press("g")
        page.keyboard.press("l")
    expect(page).to_have_url(re.compile(r"/tickets/$"))
