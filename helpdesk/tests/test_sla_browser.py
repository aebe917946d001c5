"""In the browser: an admin adds an SLA policy in its modal and moves it up; the countdown script ticks badges."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in
from helpdesk.models import SLAPolicy

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

ROWS = "#policy-table [data-testid=policy-row]"


def test_admin_adds_a_policy_and_moves_it_up(live_stack, live_data, browser):
    admin = live_data.create_user("admin", name="Ada Admin")
    tag = uuid.uuid4().hex[:6]
    first = f"Catch-all {tag}"
    live_data.run(lambda: SLAPolicy.objects.create(name=first, first_response_minutes=60, resolution_minutes=480))
    live_data.add_cleanup(lambda: SLAPolicy.objects.filter(name__endswith=tag).delete())

    page = new_page(browser)
    sign_in(page, live_stack, admin, next_path="/settings/helpdesk/sla/")
    page.click("[data-testid=policy-new]")
    modal = page.locator("#modal")
    modal.locator("[name=name]").fill(f"Urgent {tag}")
    modal.locator("[name=priority]").select_option("urgent")
    modal.locator("[name=resolution_minutes]").fill("9h")
    modal.locator("[name=first_response_minutes]").fill("10h")
    modal.locator("[data-testid=policy-save]").click()
    expect(modal).to_contain_text("The first response cannot be due after the solve time.")
    modal.locator("[name=first_response_minutes]").fill("15m")
    modal.locator("[data-testid=policy-save]").click()

    expect(modal).to_be_hidden()
    mine = page.locator(ROWS).filter(has_text=tag)
    expect(mine).to_have_count(2)
    expect(mine.nth(1)).to_contain_text(f"Urgent {tag}")
    expect(page.locator("#toasts")).to_contain_text(f"Added the SLA policy “Urgent {tag}”")

    mine.nth(1).get_by_role("button", name=f"Move Urgent {tag} up").click()
    expect(page.locator(ROWS).filter(has_text=tag).first).to_contain_text(f"Urgent {tag}")
    names = live_data.run(lambda: list(SLAPolicy.objects.filter(name__endswith=tag).values_list("name", flat=True)))
    assert names == [f"Urgent {tag}", first]


def test_the_countdown_script_ticks_and_changes_colour(live_stack, live_data, browser):
    admin = live_data.create_user("admin")
    page = new_page(browser)
    sign_in(page, live_stack, admin, next_path="/settings/helpdesk/sla/")
    page.evaluate(
        """() => {
        const now = Date.now();
        const badge = (id, dueIn, warnIn) => `<span id="${id}" class="badge text-bg-success" data-sla-state="ok"
            data-sla-due="${new Date(now + dueIn).toISOString()}"
            ${warnIn === null ? "" : `data-sla-warn="${new Date(now + warnIn).toISOString()}"`}>
            <span data-sla-text>…</span></span>`;
        document.body.insertAdjacentHTML("beforeend",
            badge("calm", 3 * 3600e3 + 65e3, null) + badge("amber", 600e3 + 30e3, -1e3) + badge("late", -125e3, null));
      }"""
    )
    page.add_script_tag(url=live_stack.url("alpha", "/static/js/sla.js"))

    expect(page.locator("#calm")).to_have_text("3h 01m left")
    expect(page.locator("#calm")).to_have_class("badge text-bg-success")
    expect(page.locator("#amber")).to_have_text("10m left")
    expect(page.locator("#amber")).to_have_class("badge text-bg-warning")
    expect(page.locator("#late")).to_have_text("2m overdue")
    expect(page.locator("#late")).to_have_class("badge text-bg-danger")
