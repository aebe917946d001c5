"""The automation pages: admins build, dry-run, enable and reorder rules; others are refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automation.models import Rule
from automation.tests.factories import RuleFactory, RuleRunFactory
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["agent", "sales", "viewer"])
def test_only_admins_reach_automation(client, login, role):
    login(role)
    assert client.get(reverse("automation:rule_list")).status_code == 403
    assert client.post(reverse("automation:rule_create"), {"edit": "save"}).status_code == 403


def test_the_list_shows_rules_in_order_with_runs_and_the_template_library(client, login, django_assert_max_num_queries):
    login("admin")
    second = RuleFactory(position=20, name="Second rule")
    first = RuleFactory(position=10, name="First rule")
    RuleRunFactory(rule=second)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("automation:rule_list"))
    html = response.content.decode()
    assert html.index("First rule") < html.index("Second rule")
    assert f'data-testid="rule-row-{first.pk}"' in html
    assert "Template library" in html and "Close solved tickets after 4 days" in html


def test_empty_state(client, login):
    login("admin")
    assert 'data-testid="rules-empty"' in client.get(reverse("automation:rule_list")).content.decode()


def _post(**extra):
    return {
        "name": "Urgent to high",
        "trigger": "ticket.created",
        "cond_all_field_0": "priority",
        "cond_all_op_0": "is",
        "cond_all_value_0": "urgent",
        "action_type_0": "add_tags",
        "action_value_0": "escalated, vip",
        **extra,
    }


def test_an_admin_saves_a_rule_with_a_version(client, login):
    admin = login("admin")
    response = client.post(reverse("automation:rule_create"), _post(edit="save"))
    rule = Rule.objects.get()
    assert response.status_code == 302
    assert rule.conditions["all"] == [{"field": "priority", "op": "is", "value": "urgent"}]
    assert rule.actions == [{"type": "add_tags", "value": ["escalated", "vip"]}]
    assert not rule.enabled
    assert rule.versions.get().author == admin


def test_a_notify_action_keeps_its_roles_people_and_message_and_shows_them_again(client, login, make_user):
    login("admin")
    dana = make_user("agent", name="Dana Scully")
    post = _post(edit="save", action_type_1="notify_people", action_message_1="Look at {{ ticket.subject }}")
    post["action_people_1"] = ["team_lead", "followers"]
    post["action_person_1"] = [str(dana.pk)]
    client.post(reverse("automation:rule_create"), post)
    rule = Rule.objects.get()
    assert rule.actions[1] == {
        "type": "notify_people",
        "value": {"people": ["team_lead", "followers", f"user:{dana.pk}"], "message": "Look at {{ ticket.subject }}"},
    }

    html = client.get(reverse("automation:rule_edit", args=[rule.pk])).content.decode()
    assert 'value="team_lead" checked' in html and 'value="assignee" >' in html
    assert f'<option value="{dana.pk}" selected>Dana Scully</option>' in html


def test_editor_rows_are_added_and_removed_over_htmx(client, login):
    login("admin")
    response = client.post(
        reverse("automation:rule_create"), _post(edit="add_any"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="rule-editor"
    )
    html = response.content.decode()
    assert 'name="cond_any_field_0"' in html and "<html" not in html
    response = client.post(reverse("automation:rule_create"), _post(edit="remove_all_0"), HTTP_HX_REQUEST="true")
    assert 'name="cond_all_field_0"' not in response.content.decode()


def test_the_dry_run_panel_lists_what_would_change_and_saves_nothing(client, login):
    login("admin")
    ticket = TicketFactory(priority="urgent")
    response = client.post(reverse("automation:rule_create"), _post(edit="dry_run"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'data-testid="dry-run-panel"' in html and f"#{ticket.pk}" in html
    assert not Rule.objects.exists()
    ticket.refresh_from_db()
    assert ticket.tags == []


def test_toggle_and_move(client, login):
    login("admin")
    first, second = RuleFactory(position=10, enabled=False), RuleFactory(position=20)
    client.post(reverse("automation:rule_toggle", args=[first.pk]), {"enabled": "on"})
    client.post(reverse("automation:rule_move", args=[second.pk]), {"direction": "up"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.enabled and second.position < first.position


def test_a_template_prefills_the_editor(client, login):
    login("admin")
    html = client.get(reverse("automation:rule_create") + "?template=escalate_urgent_unassigned").content.decode()
    assert "Escalate urgent tickets unassigned for 30 minutes" in html and 'name="timer_amount"' in html


def test_run_log_and_versions_pages(client, login):
    login("admin")
    run = RuleRunFactory(
        changes=[{"label": "Change the ticket", "changes": [{"label": "Priority", "before": "Low", "after": "High"}]}]
    )
    assert "Low → High" in client.get(reverse("automation:rule_runs", args=[run.rule_id])).content.decode()
    assert client.get(reverse("automation:rule_versions", args=[run.rule_id])).status_code == 200


def test_an_older_version_is_restored_as_a_new_one(client, login):
    login("admin")
    client.post(reverse("automation:rule_create"), _post(edit="save"))
    rule = Rule.objects.get()
    client.post(reverse("automation:rule_edit", args=[rule.pk]), _post(edit="save", name="Renamed"))
    first = rule.versions.get(number=1)
    page = client.get(reverse("automation:rule_versions", args=[rule.pk])).content.decode()
    assert 'data-testid="version-restore-1"' in page and 'data-testid="version-restore-2"' not in page

    response = client.post(reverse("automation:rule_version_restore", args=[first.pk]))

    rule.refresh_from_db()
    assert response.status_code == 302 and rule.name == "Urgent to high"
    assert list(rule.versions.order_by("number").values_list("number", flat=True)) == [1, 2, 3]
    assert client.post(reverse("automation:rule_version_restore", args=[first.pk + 99])).status_code == 404
