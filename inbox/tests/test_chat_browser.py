"""The chat in two browsers: a shop's page on another origin embeds the widget; the visitor asks, the agent sees the
question on the ticket and the visitor typing, answers (the visitor sees them typing, then the answer), and the
visitor's follow-up appears on the ticket page live."""

from __future__ import annotations

import functools
import http.client
import json
import threading
import time
import uuid
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from core.testing.browser import axe_violations, new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def shop_site(tmp_path):
    """A static site on its own origin (127.0.0.1 and a free port, while the workspace is alpha.localhost)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _widget(live_data, origin: str) -> str:
    from inbox.models import ChatWidget

    widget = live_data.run(lambda: ChatWidget.objects.create(enabled=True, allowed_origins=[origin]))
    live_data.add_cleanup(lambda: ChatWidget.objects.filter(pk=widget.pk).delete())
    return widget.public_key


def _clean_up(live_data, domain: str) -> None:
    from customers.models import Customer
    from helpdesk.models import Ticket

    live_data.add_cleanup(lambda: Customer.objects.filter(domain=domain).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(requester__email__endswith=f"@{domain}").delete())


def _ticket_of(live_data, key: str) -> int:
    from inbox.models import ChatConversation

    return live_data.run(
        lambda: ChatConversation.objects.filter(widget__public_key=key).values_list("ticket_id", flat=True).first()
    )


def test_a_visitor_and_an_agent_chat_live_from_an_embedded_widget(live_stack, live_data, browser, shop_site):
    folder, origin = shop_site
    key = _widget(live_data, origin)
    token = uuid.uuid4().hex[:8]
    domain = f"chat-{token}.example.org"
    _clean_up(live_data, domain)
    (folder / "index.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href='data:,'><title>Shop</title>"
        "</head><body><h1>The shop</h1>"
        f'<script src="{live_stack.url("alpha", "/chat/widget.js")}" data-key="{key}" defer></script></body></html>'
    )
    agent_user = live_data.create_user("agent", name="Dana Agent")

    # The agent has the queue open: someone is online to chat.
    agent = new_page(browser)
    agent.add_init_script(TRACK_SOCKET)
    sign_in(agent, live_stack, agent_user, next_path="/tickets/")
    agent.wait_for_function("() => window.sbSocketOpen === true")

    visitor = new_page(browser)
    problems = watch_page_errors(visitor)
    visitor.goto(f"{origin}/index.html")
    visitor.locator("[data-testid=chat-launcher]").click()
    form = visitor.locator("[data-testid=chat-prechat]")
    expect(form).to_be_visible()
    assert axe_violations(visitor) == []
    form.locator("[data-testid=chat-name]").fill("Vera Visitor")
    form.locator("[data-testid=chat-email]").fill(f"vera@{domain}")
    form.locator("[data-testid=chat-question]").fill(f"My parcel {token} never arrived")
    form.locator("[data-testid=chat-start]").click()
    log = visitor.locator("[data-testid=chat-log]")
    expect(log.locator("[data-testid=chat-message-customer]")).to_contain_text(f"My parcel {token} never arrived")

    # The agent opens the new chat ticket: the question is there, and the visitor typing shows.
    ticket_id = _ticket_of(live_data, key)
    assert ticket_id
    agent.goto(live_stack.url("alpha", f"/tickets/{ticket_id}/"))
    agent.wait_for_function("() => window.sbSocketOpen === true")
    expect(agent.locator("[data-testid=ticket-thread]")).to_contain_text(f"My parcel {token} never arrived")
    visitor.locator("[data-testid=chat-input]").press_sequentially("Hello?")
    expect(agent.locator("#chat-typing")).to_contain_text("Vera Visitor is typing")

    # The agent types (the visitor sees it) and answers; the answer reaches the widget.
    agent.locator("[data-testid=composer-body]").press_sequentially("We found it")
    expect(visitor.locator(".typing")).to_contain_text("Dana Agent is typing")
    agent.locator("[data-testid=composer-body]").fill("We found it: it arrives tomorrow.")
    agent.locator("[data-testid=composer-send]").click()
    expect(log.locator("[data-testid=chat-message-agent]")).to_contain_text("it arrives tomorrow")

    # The visitor's follow-up appears on the agent's page without a reload.
    visitor.locator("[data-testid=chat-input]").fill("Thank you!")
    visitor.locator("[data-testid=chat-send]").click()
    expect(agent.locator("[data-testid=ticket-thread]")).to_contain_text("Thank you!")
    assert problems == []


def _wait_until_nobody_is_online(live_stack, key: str, origin: str, seconds: float = 15) -> None:
    """Agents' pages of earlier tests close their sockets as their browsers go: wait for the server to count them."""
    deadline = time.monotonic() + seconds
    headers = {"Host": f"alpha.localhost:{live_stack.port}", "Origin": origin}
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", live_stack.port, timeout=5)
        connection.request("GET", f"/chat/config/?key={key}", headers=headers)
        online = json.load(connection.getresponse())["online"]
        connection.close()
        if not online:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"an agent still counts as online after {seconds} s")
        time.sleep(0.2)


def test_with_nobody_online_the_visitor_is_offered_articles_then_leaves_an_email(
    live_stack, live_data, browser, shop_site
):
    from helpdesk.models import Article, DeflectionEvent

    folder, origin = shop_site
    key = _widget(live_data, origin)
    token = uuid.uuid4().hex[:8]
    domain = f"chat-{token}.example.org"
    _clean_up(live_data, domain)
    article = live_data.run(
        lambda: Article.objects.create(
            title=f"Refunds {token}", slug=f"refunds-{token}", body=f"How refunds {token} work: within 14 days.",
            status=Article.Status.PUBLISHED, visibility=Article.Visibility.PUBLIC,
        )
    )  # fmt: skip
    live_data.add_cleanup(lambda: Article.objects.filter(pk=article.pk).delete())
    # Before the article goes (last added, first run): the helpdesk's count of this visitor's answer.
    live_data.add_cleanup(lambda: DeflectionEvent.objects.filter(source="chat", article_id=article.pk).delete())
    (folder / "index.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href='data:,'><title>Shop</title>"
        f'</head><body><h1>The shop</h1><script src="{live_stack.url("alpha", "/chat/widget.js")}" data-key="{key}">'
        "</script></body></html>"
    )

    _wait_until_nobody_is_online(live_stack, key, origin)

    visitor = new_page(browser)
    problems = watch_page_errors(visitor)
    visitor.goto(f"{origin}/index.html")
    visitor.locator("[data-testid=chat-launcher]").click()
    expect(visitor.locator("[data-testid=chat-nobody]")).to_contain_text("Nobody is online")
    form = visitor.locator("[data-testid=chat-offline]")
    form.locator("[data-testid=chat-email]").fill(f"olga@{domain}")
    form.locator("[data-testid=chat-question]").press_sequentially(f"refunds {token}")
    suggestions = visitor.locator("[data-testid=chat-suggestions]")
    expect(suggestions.get_by_role("link", name=f"Refunds {token}")).to_be_visible()
    suggestions.locator("[data-testid=chat-not-helped]").click()
    expect(suggestions).to_have_count(0)
    form.locator("[data-testid=chat-leave]").click()
    expect(visitor.locator("[data-testid=chat-left]")).to_contain_text("answer by email")
    assert problems == []

    def outcome():
        from helpdesk.models import DeflectionEvent, Ticket

        ticket = Ticket.objects.get(requester__email=f"olga@{domain}")
        deflection = DeflectionEvent.objects.get(source="chat", article_id=article.pk)
        return ticket.channel, deflection.outcome, deflection.article_id

    assert live_data.run(outcome) == ("email", "not_helped", article.pk)
