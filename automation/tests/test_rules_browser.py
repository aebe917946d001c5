"""The issue's "done means" for rules, in Chromium against the real stack: an admin builds "urgent + unassigned for
30 minutes → assign to the team lead, AI draft, notify the lead" with the HTMX builder, runs a dry run, saves,
enables it on the list, and the beat pass fires it exactly once on a test ticket."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import axe_violations, new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

COUNT_SWAPS = "window.sbSwaps = 0; document.addEventListener('htmx:afterSettle', () => { window.sbSwaps += 1; });"


def htmx(page, action) -> None:
    """Does `action` (a click or a choice that posts the editor) and waits until its answer is swapped in and
    processed, so the next step finds the new rows with their behaviour."""
    before = page.evaluate("() => window.sbSwaps")
    action()
    page.wait_for_function(f"() => window.sbSwaps > {before}")


def _ticket_with_team_lead(live_data) -> dict:
    from helpdesk.models import Team, Ticket
    from helpdesk.tests.factories import TicketFactory

    lead = live_data.create_user("agent", name="Tia Teamlead")
    name = f"Escalations {uuid.uuid4().hex[:6]}"

    def make() -> dict:
        from django.contrib.auth import get_user_model

        team = Team.objects.create(name=name, lead=get_user_model().objects.get(email=lead.email))
        team.members.add(team.lead)
        ticket = TicketFactory(
            priority="urgent",
            team=team,
            subject=f"{name}: checkout is down",
            created=timezone.now() - timedelta(minutes=40),
        )
        return {"team": team.pk, "ticket": ticket.pk, "lead": team.lead_id, "subject": ticket.subject}

    made = live_data.run(make)
    live_data.add_cleanup(
        lambda: (Ticket.objects.filter(pk=made["ticket"]).delete(), Team.objects.filter(pk=made["team"]).delete())
    )
    return made


def test_an_admin_builds_dry_runs_enables_a_time_rule_and_it_fires_once(live_stack, live_data, browser):
    from automation.models import Rule, RuleRun
    from automation.timers import time_rules_check
    from helpdesk.models import Ticket
    from notifications.models import Notification

    made = _ticket_with_team_lead(live_data)
    admin = live_data.create_user("admin", name="Ada Admin")
    rule_name = f"Escalate urgent unassigned {uuid.uuid4().hex[:6]}"
    live_data.add_cleanup(lambda: Rule.objects.filter(name=rule_name).delete())

    page = new_page(browser, viewport={"width": 1400, "height": 1000})
    problems = watch_page_errors(page)
    sign_in(page, live_stack, admin, next_path="/automation/")
    expect(page.get_by_test_id("nav-automation")).to_be_visible()
    page.add_init_script(COUNT_SWAPS)
    page.get_by_test_id("rule-new").click()

    editor = page.get_by_test_id("rule-editor")
    editor.get_by_label("Name").fill(rule_name)
    htmx(page, lambda: editor.get_by_label("When").select_option("ticket.time"))  # the timer appears
    expect(page.get_by_test_id("rule-timer")).to_be_visible()
    page.get_by_label("After").fill("30")
    page.get_by_label("Unit").select_option("minutes")
    page.get_by_label("Counted from").select_option("created")

    htmx(page, lambda: page.get_by_test_id("add-condition-all").click())
    htmx(page, lambda: page.locator("#cond-all-field-0").select_option("priority"))
    expect(page.locator("#cond-all-value-0")).to_be_visible()  # a choice of priorities for a choice field
    page.locator("#cond-all-value-0").select_option("urgent")
    htmx(page, lambda: page.get_by_test_id("add-condition-all").click())
    htmx(page, lambda: page.locator("#cond-all-field-1").select_option("assignee"))
    htmx(page, lambda: page.locator("#cond-all-op-1").select_option("is_empty"))
    expect(page.locator("#cond-all-value-1")).to_have_count(0)  # "is empty" takes no value

    htmx(page, lambda: page.locator("#action-type-0").select_option("assign_team_lead"))
    htmx(page, lambda: page.get_by_test_id("add-action").click())
    htmx(page, lambda: page.locator("#action-type-1").select_option("ai_draft_reply"))
    htmx(page, lambda: page.get_by_test_id("add-action").click())
    htmx(page, lambda: page.locator("#action-type-2").select_option("notify_people"))
    page.get_by_label("The team's lead").check()
    page.get_by_label("Message").fill("{{ ticket.subject }} waited 30 minutes: it is yours now.")
    assert not axe_violations(page), axe_violations(page)

    htmx(page, lambda: page.get_by_test_id("rule-dry-run").click())
    panel = page.get_by_test_id("dry-run-panel")
    expect(panel).to_contain_text(f"#{made['ticket']}")
    expect(panel).to_contain_text("Tia Teamlead")  # the assignee it would set
    expect(panel).to_contain_text("Would notify Tia Teamlead")
    assert live_data.run(lambda: Ticket.objects.get(pk=made["ticket"]).assignee_id) is None  # the dry run wrote nothing

    page.get_by_test_id("rule-save").click()
    expect(page).to_have_url(re.compile(r"/automation/rules/\d+/$"))
    rule_id = live_data.run(lambda: Rule.objects.get(name=rule_name).pk)
    page.goto(live_stack.url("alpha", "/automation/"))
    page.get_by_test_id(f"rule-enabled-{rule_id}").check()  # HTMX toggle
    expect(page.get_by_test_id(f"rule-row-{rule_id}")).to_contain_text("On")
    assert live_data.run(lambda: Rule.objects.get(pk=rule_id).enabled)

    # Beat's pass, twice: the rule fires once on the ticket.
    live_data.run(lambda: time_rules_check())
    live_data.run(lambda: time_rules_check(now=timezone.now() + timedelta(minutes=2)))
    runs = live_data.run(lambda: list(RuleRun.objects.filter(rule_id=rule_id).values_list("object_id", "error")))
    assert [object_id for object_id, _error in runs] == [made["ticket"]], runs
    assert live_data.run(lambda: Ticket.objects.get(pk=made["ticket"]).assignee_id) == made["lead"]
    notices = live_data.run(
        lambda: list(Notification.objects.filter(event="automation.notice").values_list("user_id", "body"))
    )
    assert notices == [(made["lead"], f"{made['subject']} waited 30 minutes: it is yours now.")], notices

    page.goto(live_stack.url("alpha", f"/automation/rules/{rule_id}/runs/"))
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    expect(page.get_by_test_id("run-table")).to_contain_text("Tia Teamlead")
    assert not problems, problems
