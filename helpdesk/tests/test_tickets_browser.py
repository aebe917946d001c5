"""Two agents in two browsers: one creates a ticket and replies, the other sees the row arrive in the queue, the
reply appear on the ticket, and each sees the other on the ticket ("is viewing", "is replying…")."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, settle, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

ROWS = "#ticket-rows [data-testid=ticket-row]"
MESSAGES = "#ticket-thread [data-testid=thread-message]"
TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


def _clean_up(live_data, subject: str, domain: str) -> None:
    from customers.models import Customer
    from helpdesk.models import Ticket

    # Last added runs first: the tickets go before the requester's company they point to.
    live_data.add_cleanup(lambda: Customer.objects.filter(domain=domain).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(subject=subject).delete())


def _open(browser, live_stack, user, path: str):
    page = new_page(browser)
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, live_stack, user, next_path=path)
    page.wait_for_function("() => window.sbSocketOpen === true")
    return page


def test_agent_creates_and_replies_while_a_teammate_watches_live(live_stack, live_data, browser):
    ada = live_data.create_user("agent", name="Ada Lovelace")
    grace = live_data.create_user("agent", name="Grace Hopper")
    token = uuid.uuid4().hex[:8]
    subject = f"Printer on fire {token}"
    domain = f"browser-{token}.example.org"
    _clean_up(live_data, subject, domain)

    watcher = _open(browser, live_stack, grace, "/tickets/")
    page = _open(browser, live_stack, ada, "/tickets/")

    # Ada creates a ticket from the list ("n" opens the form) and lands on it.
    page.keyboard.press("n")
    modal = page.locator("#modal")
    modal.locator("[name=requester_email]").fill(f"pat@{domain}")
    modal.locator("[name=subject]").fill(subject)
    modal.locator("[name=description]").fill("Smoke comes out of the second-floor printer.")
    with page.expect_navigation():
        modal.locator("[data-testid=ticket-save]").click()
    expect(page.locator("[data-testid=ticket-subject]")).to_have_value(subject)
    page.wait_for_function("() => window.sbSocketOpen === true")

    # Grace's queue shows it without a reload.
    row = watcher.locator(ROWS).filter(has_text=subject)
    expect(row).to_have_count(1)
    expect(watcher.locator("#toasts")).to_contain_text(f"{subject}")

    # Ada replies; the composer empties and the reply is in her thread.
    page.locator("[data-testid=composer-body]").fill("We are sending someone with an extinguisher.")
    page.locator("[data-testid=composer-send]").click()
    expect(page.locator(MESSAGES).filter(has_text="extinguisher")).to_have_count(1)
    expect(page.locator("[data-testid=composer-body]")).to_have_value("")

    # Grace opens it from the keyboard (j: first row, o: open) and Ada sees her there (and the other way round).
    watcher.keyboard.press("j")
    expect(row).to_have_class(re.compile(r"\bsb-cursor\b"))
    with watcher.expect_navigation():
        watcher.keyboard.press("o")
    watcher.wait_for_function("() => window.sbSocketOpen === true")
    expect(watcher.locator(MESSAGES).filter(has_text="extinguisher")).to_have_count(1)
    expect(page.locator("[data-testid=presence]")).to_contain_text("Grace Hopper is viewing")
    expect(watcher.locator("[data-testid=presence]")).to_contain_text("Ada Lovelace is viewing")

    # Grace starts typing (shortcut letters typed in a field stay text): Ada is warned before she answers too.
    watcher.locator("[data-testid=composer-body]").press_sequentially("I can go as soon")
    expect(page.locator("[data-testid=presence]")).to_contain_text("Grace Hopper is replying")
    expect(watcher.locator("[data-testid=field-assignee] option:checked")).to_have_text("Unassigned")

    # Ada's next reply appears on Grace's page in place, and Grace's draft is untouched.
    page.locator("[data-testid=composer-body]").fill("Update: the fire is out.")
    page.keyboard.press("Control+Enter")
    expect(watcher.locator(MESSAGES).filter(has_text="the fire is out")).to_have_count(1)
    expect(watcher.locator("[data-testid=composer-body]")).to_have_value("I can go as soon")

    # Keyboard: "a" assigns the ticket to Grace, and Ada's header follows. First the reply's delivery reports
    # (queued, then sent by the worker) finish refreshing Grace's page, so none is in flight when she presses "a".
    expect(watcher.locator(MESSAGES).filter(has_text="the fire is out")).to_contain_text("Sent")
    watcher.wait_for_function("() => !document.querySelector('.htmx-request')")
    watcher.locator("body").click(position={"x": 5, "y": 5})
    watcher.keyboard.press("a")
    expect(watcher.locator("[data-testid=field-assignee] option:checked")).to_contain_text("Grace Hopper")
    expect(page.locator("[data-testid=field-assignee] option:checked")).to_contain_text("Grace Hopper")


# Counts the fragments htmx could not place: a push for a page that has no target for it.
COUNT_MISSED_PUSHES = """window.sbMissedPushes = 0;
document.addEventListener('htmx:oobErrorNoTarget', () => { window.sbMissedPushes += 1; });"""


def test_a_page_without_the_ticket_list_gets_toasts_but_no_rows_to_misplace(live_stack, live_data, browser):
    ada = live_data.create_user("agent", name="Ada Lovelace")
    owner = live_data.create_user("admin", name="Olive Owner")
    token = uuid.uuid4().hex[:8]
    subject = f"Fax jammed {token}"
    domain = f"browser-{token}.example.org"
    _clean_up(live_data, subject, domain)

    team = new_page(browser)
    team.add_init_script(TRACK_SOCKET)
    team.add_init_script(COUNT_MISSED_PUSHES)
    sign_in(team, live_stack, owner, next_path="/people/")
    team.wait_for_function("() => window.sbSocketOpen === true")
    page = _open(browser, live_stack, ada, "/tickets/")

    page.keyboard.press("n")
    modal = page.locator("#modal")
    modal.locator("[name=requester_email]").fill(f"pat@{domain}")
    modal.locator("[name=subject]").fill(subject)
    modal.locator("[name=description]").fill("Paper everywhere.")
    with page.expect_navigation():
        modal.locator("[data-testid=ticket-save]").click()

    # The new ticket's row was pushed before its toast: a socket getting both delivers them in that order.
    expect(team.locator("#toasts")).to_contain_text(subject)
    assert team.evaluate("() => window.sbMissedPushes") == 0


def test_after_a_reply_the_sla_card_and_the_status_hint_follow_without_a_reload(
    live_stack, live_celery, live_data, browser
):
    # live_celery: the policy saved here renews the servers' copies of the workspace's configuration through the
    # cache they share with this process (core.workspace_config).
    from helpdesk.models import BusinessCalendar, SLAPolicy, Ticket

    ada = live_data.create_user("agent", name="Ada Lovelace")
    token = uuid.uuid4().hex[:8]
    subject = f"Scanner offline {token}"
    domain = f"browser-{token}.example.org"
    _clean_up(live_data, subject, domain)

    # A calendar of its own: a policy without one would create the workspace's default calendar, committed.
    def policy() -> None:
        calendar = BusinessCalendar.objects.create(name=f"Always {token}", always_open=True)
        SLAPolicy.objects.create(
            name=f"Any {token}", calendar=calendar, first_response_minutes=60, resolution_minutes=480
        )

    live_data.add_cleanup(lambda: BusinessCalendar.objects.filter(name=f"Always {token}").delete())
    live_data.add_cleanup(lambda: SLAPolicy.objects.filter(name=f"Any {token}").delete())
    live_data.run(policy)

    page = _open(browser, live_stack, ada, "/tickets/")
    page.keyboard.press("n")
    modal = page.locator("#modal")
    modal.locator("[name=requester_email]").fill(f"pat@{domain}")
    modal.locator("[name=subject]").fill(subject)
    modal.locator("[name=description]").fill("It stopped after the update.")
    with page.expect_navigation():
        modal.locator("[data-testid=ticket-save]").click()
    # The worker's intake may assign the new ticket meanwhile, a change with a newer version that the status change
    # below would meet as someone else's: let the intake (then its analysis) finish, and start from the page as is.
    analysing = Ticket.objects.filter(subject=subject, ai_analysis_status="pending")
    live_celery.server.wait_until(lambda: not live_data.run(analysing.exists), what="the new ticket's intake")
    page.reload()
    page.wait_for_function("() => window.sbSocketOpen === true")
    first_response = page.locator("[data-testid=sla-card] [data-testid=sla-timer-first_response]")
    expect(first_response).to_contain_text("left")
    expect(page.locator("[data-testid=status-hint]")).to_have_text("Now new")

    page.locator("[data-testid=composer-body]").fill("Restarting it now.")
    page.locator("[data-testid=composer-send]").click()

    expect(first_response).to_contain_text("Met")
    expect(page.locator("[data-testid=status-hint]")).to_have_text("Now open")
    # The reply's delivery reports (queued, then sent by the worker) refresh the page: once they are done, none is in
    # flight to meet the status change below as someone else's newer one (the worker may still be busy with an
    # earlier test's work when the reply is queued).
    # Settled, not only answered: a header swapped in is processed by htmx as it settles, and a choice made on the
    # new select before that sends nothing.
    expect(page.locator(MESSAGES).filter(has_text="Restarting it now.")).to_contain_text("Sent")
    settle(page)
    page.locator("[data-testid=field-status]").select_option("pending")
    expect(page.locator("[data-testid=status-hint]")).to_have_text("Now pending")


def test_a_refresh_answered_after_the_agents_own_change_does_not_undo_it(live_stack, live_data, browser):
    """A pushed refresh rendered before the agent's status change but answered after it (held here until then)
    must not put the old header, status hint or SLA card back."""
    from helpdesk.live import refresh_oob
    from helpdesk.tests.factories import TicketFactory

    ada = live_data.create_user("agent", name="Ada Lovelace")
    ticket = live_data.run(lambda: TicketFactory(subject=f"Badge reader {uuid.uuid4().hex[:8]}", status="open"))
    live_data.add_cleanup(lambda: type(ticket.customer).objects.filter(pk=ticket.customer_id).delete())
    live_data.add_cleanup(lambda: type(ticket).objects.filter(pk=ticket.pk).delete())
    page = _open(browser, live_stack, ada, f"/tickets/{ticket.pk}/")
    expect(page.locator("[data-testid=status-hint]")).to_have_text("Now open")

    refresh = refresh_oob(ticket)
    refresh_path = re.search(r'hx-get="([^"]+)"', refresh).group(1)
    stale = page.evaluate("path => fetch(path, {headers: {'HX-Request': 'true'}}).then(r => r.text())", refresh_path)
    held = []
    page.route(f"**{refresh_path}", lambda route: held.append(route))
    page.evaluate(
        """html => {
            document.addEventListener("htmx:afterOnLoad", event => {
              if (event.detail.pathInfo.requestPath.endsWith("/live/")) { window.sbRefreshed = true; }
            });
            document.getElementById("ticket-refresh").outerHTML = html;
            htmx.process(document.getElementById("ticket-refresh"));
        }""",
        refresh.replace(' hx-swap-oob="true"', ""),
    )
    page.wait_for_function("() => document.querySelector('#ticket-refresh').classList.contains('htmx-request')")

    page.locator("[data-testid=field-status]").select_option("pending")
    expect(page.locator("[data-testid=status-hint]")).to_have_text("Now pending")
    assert len(held) == 1
    held[0].fulfill(status=200, content_type="text/html", body=stale)
    page.wait_for_function("() => window.sbRefreshed === true")

    expect(page.locator("[data-testid=status-hint]")).to_have_text("Now pending")
    expect(page.locator("[data-testid=field-status]")).to_have_value("pending")


def test_a_list_drops_the_changed_rows_it_does_not_show_without_errors(live_stack, live_data, browser):
    from helpdesk.tests.factories import TicketFactory

    ada = live_data.create_user("agent", name="Ada Lovelace")
    grace = live_data.create_user("agent", name="Grace Hopper")
    subject = f"Toner low {uuid.uuid4().hex[:8]}"
    ticket = live_data.run(lambda: TicketFactory(subject=subject, status="open"))
    # Last added runs first: the ticket, then the company its factory made (with the requester).
    live_data.add_cleanup(lambda: type(ticket.customer).objects.filter(pk=ticket.customer_id).delete())
    live_data.add_cleanup(lambda: type(ticket).objects.filter(pk=ticket.pk).delete())

    watcher = new_page(browser)
    watcher.add_init_script(TRACK_SOCKET)
    watcher.add_init_script(COUNT_MISSED_PUSHES)
    watcher.add_init_script(
        "window.sbPushes = 0; document.addEventListener('htmx:wsBeforeMessage', () => { window.sbPushes += 1; });"
    )
    sign_in(watcher, live_stack, grace, next_path="/tickets/?status=solved")  # the open ticket is not listed
    watcher.wait_for_function("() => window.sbSocketOpen === true")
    page = _open(browser, live_stack, ada, f"/tickets/{ticket.pk}/")

    page.locator("[data-testid=field-priority]").select_option("urgent")

    watcher.wait_for_function("() => window.sbPushes >= 1")  # the row arrived (htmx handles it in the same task)
    assert watcher.evaluate("() => window.sbMissedPushes") == 0
    expect(watcher.locator(ROWS).filter(has_text=subject)).to_have_count(0)
