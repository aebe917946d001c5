"""The rule engine: position order, once per event, loop protection and the depth limit, failing actions, and the
dry run writing nothing."""

from __future__ import annotations

import itertools

import pytest

from automation import engine, services
from automation.engine import Event, event_process
from automation.models import RuleFiring, RuleRun
from automation.tests.factories import RuleFactory
from helpdesk import facade as helpdesk
from helpdesk.models import Ticket
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def rule(**fields):
    created = RuleFactory(**fields)
    from automation.compiled import rules_changed

    rules_changed()
    return created


def test_rules_fire_in_position_order_and_later_rules_see_earlier_changes():
    ticket = TicketFactory(priority="urgent")
    second = rule(
        position=20,
        conditions={"all": [{"field": "tags", "op": "contains", "value": ["first"]}]},
        actions=[{"type": "add_tags", "value": ["second"]}],
    )
    first = rule(position=10, actions=[{"type": "add_tags", "value": ["first"]}])

    runs = event_process(Event("ticket.created", "ticket", ticket.pk))

    assert [run.rule_id for run in runs] == [first.pk, second.pk]
    ticket.refresh_from_db()
    assert ticket.tags == ["first", "second"]


def test_a_rule_fires_once_per_event_even_when_the_event_is_delivered_twice():
    ticket = TicketFactory(priority="urgent")
    rule()
    event = Event("ticket.created", "ticket", ticket.pk)

    assert len(event_process(event)) == 1
    assert event_process(event) == []
    assert RuleRun.objects.count() == 1 == RuleFiring.objects.count()


def test_conditions_that_do_not_hold_fire_nothing():
    ticket = TicketFactory(priority="low")
    rule()
    assert event_process(Event("ticket.created", "ticket", ticket.pk)) == []
    assert not RuleRun.objects.exists()


def test_a_change_made_by_a_rule_does_not_trigger_the_same_rule(django_capture_on_commit_callbacks):
    ticket = TicketFactory(priority="normal", status=Ticket.Status.OPEN)
    bump = rule(
        trigger="ticket.updated",
        conditions={"all": [{"field": "priority", "op": "changed"}]},
        actions=[{"type": "add_tags", "value": ["seen"]}, {"type": "set_type", "value": "incident"}],
    )

    with django_capture_on_commit_callbacks(execute=True):
        helpdesk.ticket_actions_apply(
            ticket_id=ticket.pk, actions=[{"type": "set_priority", "value": "high"}], actor_id=None, source=""
        )

    runs = list(RuleRun.objects.filter(rule=bump))
    assert len(runs) == 1
    ticket.refresh_from_db()
    assert ticket.tags == ["seen"] and ticket.type == "incident"


def test_rules_that_trigger_each_other_stop_at_the_depth_limit(django_capture_on_commit_callbacks):
    ticket = TicketFactory(priority="normal", status=Ticket.Status.OPEN)
    up = rule(
        trigger="ticket.updated",
        conditions={"all": [{"field": "priority", "op": "changed_to", "value": "high"}]},
        actions=[{"type": "set_priority", "value": "urgent"}],
    )
    down = rule(
        trigger="ticket.updated",
        conditions={"all": [{"field": "priority", "op": "changed_to", "value": "urgent"}]},
        actions=[{"type": "set_priority", "value": "high"}],
    )

    with django_capture_on_commit_callbacks(execute=True):
        helpdesk.ticket_actions_apply(
            ticket_id=ticket.pk, actions=[{"type": "set_priority", "value": "high"}], actor_id=None, source=""
        )

    runs = list(RuleRun.objects.order_by("id"))
    depths = [run.depth for run in runs]
    assert depths == sorted(depths) and depths[0] == 0
    assert max(depths) == engine.MAX_DEPTH  # the chain stopped there instead of running forever
    assert {run.rule_id for run in runs} == {up.pk, down.pk}
    for first, second in itertools.pairwise(runs):
        assert not (first.rule_id == second.rule_id and second.depth == first.depth + 1)  # never re-triggers itself


def test_a_failing_action_is_logged_on_the_run_and_the_others_still_run():
    ticket = TicketFactory(priority="urgent")
    broken = rule(
        actions=[
            {"type": "send_sms", "value": {"to": "+14155550100", "body": "hi"}},
            {"type": "add_tags", "value": ["after"]},
        ]
    )

    (run,) = event_process(Event("ticket.created", "ticket", ticket.pk))

    assert run.rule_id == broken.pk
    assert "No SMS number is connected" in run.error
    ticket.refresh_from_db()
    assert ticket.tags == ["after"]


def test_dry_run_shows_what_would_change_and_writes_nothing(django_assert_max_num_queries):
    matching = TicketFactory(priority="urgent")
    TicketFactory(priority="low")
    created = services.rule_create(
        data={
            "name": "Urgent → high",
            "trigger": "ticket.created",
            "conditions": {"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
            "actions": [{"type": "set_priority", "value": "high"}, {"type": "ai_draft_reply"}],
        },
        actor=None,
    )
    from automation.compiled import compile_rule

    rows = engine.rule_dry_run(compile_rule(created), limit=50)

    matched = [row for row in rows if row.matched]
    assert [row.object_id for row in matched] == [matching.pk]
    ticket_line, ai_line = matched[0].outcomes
    assert ticket_line["changes"] == [{"field": "priority", "label": "Priority", "before": "Urgent", "after": "High"}]
    assert ai_line["detail"] == "Would draft a reply"
    matching.refresh_from_db()
    assert matching.priority == "urgent"
    assert not RuleRun.objects.exists() and not RuleFiring.objects.exists()


def test_every_save_is_a_version_with_its_author(make_user):
    admin = make_user("admin")
    data = {
        "name": "Tag urgent",
        "trigger": "ticket.created",
        "conditions": {"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
        "actions": [{"type": "add_tags", "value": ["urgent"]}],
    }
    created = services.rule_create(data=data, actor=admin)
    services.rule_update(rule=created, data={**data, "name": "Tag urgent tickets"}, actor=admin)
    services.rule_update(rule=created, data={**data, "name": "Tag urgent tickets"}, actor=admin)  # no change
    services.rule_enable(rule=created, enabled=True, actor=admin)

    versions = list(created.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.snapshot["name"] for v in versions] == ["Tag urgent", "Tag urgent tickets", "Tag urgent tickets"]
    assert versions[-1].snapshot["enabled"] is True
    assert {v.author for v in versions} == {admin}


def test_an_invalid_rule_is_refused_with_a_reason():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.rule_create(
            data={
                "name": "x",
                "trigger": "ticket.created",
                "conditions": {"all": [{"field": "nope", "op": "is", "value": "1"}]},
                "actions": [{"type": "add_tags", "value": ["a"]}],
            },
            actor=None,
        )
    assert "Unknown field" in str(error.value)
