"""The main pages under the Content-Security-Policy in Chromium: they work, and nothing is refused or fails.

Any `securitypolicyviolation`, console error or uncaught exception on any page fails the walk, so a template
that brings back an inline script, an inline handler, `hx-on` or eval is caught where it would break.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


def _ticket(subject: str) -> int:
    from helpdesk.tests.factories import TicketFactory

    return TicketFactory(subject=subject).pk


def _delete_ticket(ticket_id: int) -> None:
    from customers.models import Contact, Customer
    from helpdesk.models import Ticket

    ticket = Ticket.objects.select_related("requester").get(pk=ticket_id)
    contact, customer_id = ticket.requester, ticket.customer_id
    ticket.delete()
    Contact.objects.filter(pk=contact.pk).delete()
    Customer.objects.filter(pk=customer_id).delete()


def _ai_runs() -> list[int]:
    from ai.tests.factories import AIRunFactory

    return [AIRunFactory(provider="local", model="switchboard-local-1", cost_usd=0).pk for _ in range(2)]


def _delete_ai_runs(run_ids: list[int]) -> None:
    from ai.models import AIRun

    AIRun.objects.filter(pk__in=run_ids).delete()


def test_the_main_pages_work_under_the_policy_without_a_single_violation(live_stack, live_data, browser):
    admin = live_data.create_user("admin")
    subject = f"Policy walk {uuid.uuid4().hex[:8]}"
    ticket_id = live_data.run(lambda: _ticket(subject))
    live_data.add_cleanup(lambda: _delete_ticket(ticket_id))
    run_ids = live_data.run(_ai_runs)
    live_data.add_cleanup(lambda: _delete_ai_runs(run_ids))
    page = new_page(browser)
    problems = watch_page_errors(page)
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, live_stack, admin, next_path="/tickets/")

    # Ticket list: the live socket connects (connect-src), the filter form drops empty fields (no hx-on).
    page.wait_for_function("() => window.sbSocketOpen === true")
    page.locator("[data-testid=ticket-search]").fill(subject)
    expect(page.locator("#ticket-rows [data-testid=ticket-row]").filter(has_text=subject)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/tickets/\?q="))
    assert parse_qs(urlsplit(page.url).query, keep_blank_values=True) == {"q": [subject], "sort": ["-created"]}

    # Ticket detail, live: a push lands in the page.
    page.goto(live_stack.url("alpha", f"/tickets/{ticket_id}/"))
    page.wait_for_function("() => window.sbSocketOpen === true")
    live_stack.push(
        f"t_alpha.user.{admin.user.pk}",
        '<div id="toasts" hx-swap-oob="beforeend"><div class="toast show" data-testid="pushed">Pushed</div></div>',
    )
    expect(page.locator("#toasts [data-testid=pushed]")).to_have_text("Pushed")

    # Knowledge-base form: the slug follows the title (the script that was inline), the preview renders.
    page.goto(live_stack.url("alpha", "/kb/new/"))
    page.locator("[name=title]").fill("Résumé your printer")
    expect(page.locator("[name=slug]")).to_have_value("resume-your-printer")
    page.locator("[name=body]").fill("**Bold** move")
    expect(page.locator("#article-preview strong")).to_have_text("Bold")

    # AI usage: Chart.js draws every chart.
    page.goto(live_stack.url("alpha", "/settings/ai/usage/"))
    page.wait_for_function(
        "() => window.Chart && document.querySelectorAll('canvas[data-sb-chart]').length === 4"
        " && [...document.querySelectorAll('canvas[data-sb-chart]')].every(canvas => Chart.getChart(canvas))"
    )

    # API docs: Swagger UI renders the schema (its inline script runs with the nonce).
    page.goto(live_stack.url("alpha", "/api/v1/docs/"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Switchboard API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()

    # The public sign-up page: typing an address marks it as edited by hand (the handler that was hx-on).
    page.goto(live_stack.url(None, "/signup/"))
    page.locator("[name=slug]").fill("my-own-address")
    expect(page.locator("[name=slug_edited]")).to_have_value("1")

    assert problems == []


def test_the_split_stack_of_make_run_connects_its_socket_under_the_policy(gunicorn_stack, live_data, browser):
    """Pages from gunicorn open their socket on daphne's port (LIVE_SOCKET_PORT): connect-src allows that origin."""
    agent = live_data.create_user("agent")
    page = new_page(browser)
    problems = watch_page_errors(page)
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, gunicorn_stack.pages, agent, next_path="/tickets/")

    page.wait_for_function("() => window.sbSocketOpen === true")

    assert problems == []
