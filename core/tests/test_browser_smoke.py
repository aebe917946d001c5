"""The browser-test stack itself: daphne serves pages, the real login form signs in, the live socket carries pushes.

Pushes go through the Redis channel layer daphne listens on, exactly as `notify_on_commit` sends them.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

OPEN_SOCKET = """url => new Promise(resolve => {
  const socket = new WebSocket(url);
  window.sbMessages = [];
  socket.onmessage = event => window.sbMessages.push(event.data);
  socket.onopen = () => resolve("open");
  socket.onclose = event => resolve(`closed ${event.code}`);
})"""


def toast(text: str) -> str:
    return f'<div id="toasts" hx-swap-oob="beforeend"><div class="toast show" data-testid="pushed">{text}</div></div>'


def test_login_page_renders_on_a_workspace_host(live_stack, browser):
    page = new_page(browser)

    response = page.goto(live_stack.url("alpha", "/accounts/login/"))

    assert response.status == 200
    expect(page.locator("h1")).to_contain_text("Alpha Testing Ltd")
    expect(page.locator("[name=login]")).to_be_visible()
    expect(page.locator("[name=password]")).to_be_visible()


def test_wrong_password_keeps_the_visitor_on_the_login_form(live_stack, live_data, browser):
    user = live_data.create_user("agent")
    page = new_page(browser)
    page.goto(live_stack.url("alpha", "/accounts/login/"))

    page.fill("[name=login]", user.email)
    page.fill("[name=password]", "not-the-password")
    page.locator("form:has([name=password]) [type=submit]").first.click()

    expect(page.locator("form")).to_contain_text("not correct")
    assert "sessionid" not in {cookie["name"] for cookie in page.context.cookies()}


def test_anonymous_socket_is_refused(live_stack, browser):
    page = new_page(browser)
    page.goto(live_stack.url("alpha", "/accounts/login/"))

    assert page.evaluate(OPEN_SOCKET, live_stack.url("alpha", "/ws/live/").replace("http", "ws", 1)).startswith(
        "closed"
    )


def test_signed_in_socket_receives_pushes_to_its_workspace_and_user_only(live_stack, live_data, browser):
    user = live_data.create_user("agent")
    page = new_page(browser)
    sign_in(page, live_stack, user)

    opened = page.evaluate(OPEN_SOCKET, live_stack.url("alpha", "/ws/live/").replace("http", "ws", 1))
    live_stack.push("t_beta.workspace", "<p>beta's news</p>")
    live_stack.push(f"t_alpha.user.{user.user.pk}", "<p>for you</p>")
    live_stack.push("t_alpha.workspace", "<p>for everyone</p>")
    page.wait_for_function("() => window.sbMessages.length >= 2")

    assert opened == "open"
    assert page.evaluate("window.sbMessages") == ["<p>for you</p>", "<p>for everyone</p>"]


def test_signed_in_page_connects_htmx_ws_and_swaps_pushed_toasts(live_stack, live_data, browser):
    """base.html opens /ws/live/ with the htmx ws extension; a pushed fragment lands in #toasts."""
    user = live_data.create_user("agent")
    page = new_page(browser)
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });")
    sign_in(page, live_stack, user)

    page.wait_for_function("() => window.sbSocketOpen === true")
    live_stack.push(f"t_alpha.user.{user.user.pk}", toast("Hello from the server"))

    expect(page.locator("#toasts [data-testid=pushed]")).to_have_text("Hello from the server")


def test_a_page_from_gunicorn_takes_its_live_updates_from_daphne(gunicorn_stack, live_data, browser):
    pages, sockets = gunicorn_stack.pages, gunicorn_stack.sockets
    user = live_data.create_user("agent")
    page = new_page(browser)
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });")
    sign_in(page, pages, user)

    page.wait_for_function("() => window.sbSocketOpen === true")
    sockets.push(f"t_alpha.user.{user.user.pk}", toast("Pushed through daphne"))

    assert f":{sockets.port}/ws/live/" in page.locator("body").get_attribute("ws-connect")
    expect(page.locator("#toasts [data-testid=pushed]")).to_have_text("Pushed through daphne")
