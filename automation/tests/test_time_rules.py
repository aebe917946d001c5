"""Time rules: the timer's threshold, indexed candidate queries (a constant number of queries however many tickets),
once per anchor, and the business-hours timer. The clock is pinned: every pass gets its own `now`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automation import services
from automation.models import Rule, RuleRun
from automation.timers import time_rules_check
from helpdesk.models import Ticket
from helpdesk.tests.factories import TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db

ESCALATE = {
    "name": "Urgent + unassigned for 30 minutes",
    "trigger": "ticket.time",
    "timer": {"anchor": "created", "amount": 30, "unit": "minutes"},
    "conditions": {
        "all": [
            {"field": "priority", "op": "is", "value": "urgent"},
            {"field": "assignee", "op": "is_empty", "value": ""},
        ]
    },
    "actions": [{"type": "assign_team_lead"}],
}


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def test_urgent_unassigned_for_30_minutes_goes_to_the_team_lead_once(make_user, now):
    lead = make_user("agent", name="Lea Lead")
    team = TeamFactory(lead=lead)
    team.members.add(lead)
    late = TicketFactory(priority="urgent", team=team, created=now - timedelta(minutes=40))
    fresh = TicketFactory(priority="urgent", team=team, created=now - timedelta(minutes=10))
    TicketFactory(priority="low", team=team, created=now - timedelta(minutes=40))
    services.rule_create(data=ESCALATE, actor=None, enabled=True)

    first = time_rules_check(now=now)
    again = time_rules_check(now=now + timedelta(seconds=30))

    assert (first.fired, again.fired) == (1, 0)
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.assignee == lead and fresh.assignee is None
    later = time_rules_check(now=now + timedelta(minutes=25))  # the fresh one's 30 minutes are up
    assert later.fired == 1
    fresh.refresh_from_db()
    assert fresh.assignee == lead
    assert RuleRun.objects.filter(event="ticket.time").count() == 2


def test_a_pass_costs_the_same_queries_for_many_tickets_as_for_few(now, django_assert_max_num_queries):
    services.rule_create(
        data={**ESCALATE, "actions": [{"type": "add_tags", "value": ["late"]}]}, actor=None, enabled=True
    )
    for _ in range(3):
        TicketFactory(priority="low", created=now - timedelta(hours=2))
    time_rules_check(now=now - timedelta(hours=3))  # primes the cursor and the compiled rules

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        time_rules_check(now=now)
    Rule.objects.update(checked_through=now - timedelta(hours=3))
    for _ in range(30):
        TicketFactory(priority="low", created=now - timedelta(hours=2))
    with CaptureQueriesContext(connection) as many:
        time_rules_check(now=now + timedelta(minutes=1))
    assert len(many.captured_queries) == len(few.captured_queries)
    candidate_sql = [q["sql"] for q in many.captured_queries if "helpdesk_ticket" in q["sql"] and "LIMIT" in q["sql"]]
    assert candidate_sql and all('"priority" = ' in sql and 'assignee_id" IS NULL' in sql for sql in candidate_sql)


def test_pending_for_3_days_fires_once_per_pending_period(now):
    ticket = TicketFactory(status=Ticket.Status.PENDING)
    Ticket.objects.filter(pk=ticket.pk).update(updated=now - timedelta(days=4))
    services.rule_create(
        data={
            "name": "Pending 3 days",
            "trigger": "ticket.time",
            "timer": {"anchor": "updated", "amount": 3, "unit": "days"},
            "conditions": {"all": [{"field": "status", "op": "is", "value": "pending"}]},
            "actions": [{"type": "add_note", "value": "Still waiting on the customer."}],
        },
        actor=None,
        enabled=True,
    )
    assert time_rules_check(now=now).fired == 1
    assert time_rules_check(now=now + timedelta(hours=1)).fired == 0


def test_no_reply_for_24_business_hours_counts_business_hours_only(now):
    from helpdesk.facade.automation import business_hours_ago

    waiting = TicketFactory(status=Ticket.Status.OPEN)
    answered = TicketFactory(status=Ticket.Status.OPEN)
    threshold = business_hours_ago(hours=24, now=now)
    Ticket.objects.filter(pk=waiting.pk).update(last_customer_message_at=threshold - timedelta(minutes=5))
    Ticket.objects.filter(pk=answered.pk).update(
        last_customer_message_at=threshold - timedelta(minutes=5), last_agent_message_at=threshold
    )
    services.rule_create(
        data={
            "name": "No reply 24 business hours",
            "trigger": "ticket.time",
            "timer": {"anchor": "customer_waiting", "amount": 24, "unit": "business_hours"},
            "conditions": {"all": []},
            "actions": [{"type": "add_tags", "value": ["waiting"]}],
        },
        actor=None,
        enabled=True,
    )

    assert time_rules_check(now=now).fired == 1
    waiting.refresh_from_db()
    assert waiting.tags == ["waiting"]
    assert (now - threshold) >= timedelta(hours=24)  # business hours are never shorter than wall-clock hours


def test_a_backlog_is_worked_through_over_several_passes(now, monkeypatch):
    from automation import timers

    monkeypatch.setattr(timers, "MAX_FIRINGS", 2)
    tickets = [TicketFactory(priority="urgent", created=now - timedelta(hours=hours)) for hours in (5, 4, 3)]
    services.rule_create(
        data={**ESCALATE, "actions": [{"type": "add_tags", "value": ["late"]}]}, actor=None, enabled=True
    )

    assert time_rules_check(now=now).fired == 2
    assert time_rules_check(now=now + timedelta(minutes=1)).fired == 1
    assert time_rules_check(now=now + timedelta(minutes=2)).fired == 0
    assert all(Ticket.objects.get(pk=t.pk).tags == ["late"] for t in tickets)
