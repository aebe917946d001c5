"""The browser-test stack itself: daphne serves pages, the real login form signs in, the live socket carries pushes.

Pushes go through the Redis channel layer daphne listens on, exactly as `notify_on_commit` sends them.
"""

from __future__ import annotations

import dataclasses

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in
from core.testing.fixtures import _test_database_url
from core.testing.live import BIN, LiveStack, ServerProcess, free_port, server_env

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
    page.wait_for_function("window.sbMessages.length >= 2")

    assert opened == "open"
    assert page.evaluate("window.sbMessages") == ["<p>for you</p>", "<p>for everyone</p>"]


def test_signed_in_page_connects_htmx_ws_and_swaps_pushed_toasts(live_stack, live_data, browser):
    """base.html opens /ws/live/ with the htmx ws extension; a pushed fragment lands in #toasts."""
    user = live_data.create_user("agent")
    page = new_page(browser)
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });")
    sign_in(page, live_stack, user)

    page.wait_for_function("window.sbSocketOpen === true")
    live_stack.push(f"t_alpha.user.{user.user.pk}", toast("Hello from the server"))

    expect(page.locator("#toasts [data-testid=pushed]")).to_have_text("Hello from the server")


@pytest.fixture
def gunicorn_stack(live_stack, tmp_path):
    """The live stack as `make run` splits it: pages from gunicorn (config.wsgi), websockets from a daphne of its own,
    which the pages reach through LIVE_SOCKET_PORT and which takes sockets from gunicorn's pages
    (LIVE_SOCKET_ORIGIN_PORTS)."""
    page_port = free_port()
    env = server_env(database=_test_database_url(), redis_url=live_stack.redis_url)
    sockets = LiveStack.start(
        env=env | {"LIVE_SOCKET_ORIGIN_PORTS": str(page_port)}, worker=live_stack.worker, log_dir=tmp_path
    )
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{page_port}", "--worker-class", "gthread", "--threads", "2"]
    server = ServerProcess.start(
        "gunicorn",
        [*args, "config.wsgi:application"],
        env=env | {"LIVE_SOCKET_PORT": str(sockets.port)},
        log_dir=tmp_path,
    )
    stack = dataclasses.replace(live_stack, port=page_port, server=server)
    try:
        server.wait_until(stack.serves_http, what="serving HTTP", timeout=60)
        yield stack, sockets
    finally:
        server.stop()
        sockets.stop()


def test_a_page_from_gunicorn_takes_its_live_updates_from_daphne(gunicorn_stack, live_data, browser):
    pages, sockets = gunicorn_stack
    user = live_data.create_user("agent")
    page = new_page(browser)
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });")
    sign_in(page, pages, user)

    page.wait_for_function("window.sbSocketOpen === true")
    sockets.push(f"t_alpha.user.{user.user.pk}", toast("Pushed through daphne"))

    assert f":{sockets.port}/ws/live/" in page.locator("body").get_attribute("ws-connect")
    expect(page.locator("#toasts [data-testid=pushed]")).to_have_text("Pushed through daphne")
