"""The minute sweep: near-breach warnings and breaches go out once, to the assignee and team lead, live and by
email; a breach hands the ticket to the policy's escalation team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.realtime import user_group
from helpdesk.models import HelpdeskSettings, Ticket, TicketEvent
from helpdesk.services import sla
from helpdesk.tasks.sla import sla_sweep_fanout_task, sla_sweep_task
from helpdesk.tests.factories import (
    AgentProfileFactory,
    BusinessCalendarFactory,
    SLAPolicyFactory,
    TeamFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


@pytest.fixture
def policy():
    return SLAPolicyFactory(
        name="Standard",
        calendar=BusinessCalendarFactory(always_open=True),
        first_response_minutes=60,
        next_response_minutes=None,
        resolution_minutes=480,
    )


@pytest.fixture
def people(make_user):
    agent = make_user("agent", name="Ana Agent", email="ana@alpha.test")
    lead = make_user("admin", name="Leo Lead", email="leo@alpha.test")
    team = TeamFactory(name="Support", lead=lead)
    team.members.add(agent, lead)
    return agent, lead, team


def running_ticket(policy, **fields) -> Ticket:
    ticket = TicketFactory(created=T0, last_customer_message_at=T0, status=Ticket.Status.OPEN, **fields)
    sla.ticket_sla_refresh(ticket, now=T0)
    return ticket


@pytest.fixture
def inbox():
    """Reads what was pushed to a user's sockets (the in-memory channel layer of the tests)."""
    layer = get_channel_layer()
    channels = {}

    def listen(user):
        channels[user.pk] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(user_group(user.pk), channels[user.pk])

    def received(user) -> str:
        return async_to_sync(layer.receive)(channels[user.pk])["html"]

    yield listen, received
    for user_id, channel in channels.items():
        async_to_sync(layer.group_discard)(user_group(user_id), channel)


def test_near_breach_warns_the_assignee_and_team_lead_once(policy, people, inbox, django_capture_on_commit_callbacks):
    agent, lead, team = people
    listen, received = inbox
    listen(agent)
    listen(lead)
    ticket = running_ticket(policy, assignee=agent, team=team, subject="Printer on fire")

    with django_capture_on_commit_callbacks(execute=True):
        first = sla.sla_sweep(now=T0 + minutes(50))
    with django_capture_on_commit_callbacks(execute=True):
        again = sla.sla_sweep(now=T0 + minutes(55))

    assert (first.warned, again.warned) == (1, 0)
    ticket.refresh_from_db()
    assert ticket.sla_warned and not ticket.sla_breached
    warning = ticket.events.get(kind=TicketEvent.Kind.SLA_WARNING)
    assert warning.data["target"] == "first_response"
    for person in (agent, lead):
        html = received(person)
        assert 'hx-swap-oob="beforeend"' in html and "text-bg-warning" in html
        assert f"SLA at risk on #{ticket.pk}: Printer on fire (first response due in 10 min)" in html
    # Through notifications: one email each, as each person chose.
    assert sorted(message.to[0] for message in mail.outbox) == ["ana@alpha.test", "leo@alpha.test"]
    email = mail.outbox[0]
    assert email.subject.startswith("[Alpha Testing Ltd] SLA at risk: #")
    assert "The first response is due at" in email.body
    assert f"/tickets/{ticket.pk}/" in email.body


def test_a_breach_is_recorded_escalated_and_announced_once(policy, people, django_capture_on_commit_callbacks):
    agent, _lead, team = people
    ticket = running_ticket(policy, assignee=agent, team=team)

    with django_capture_on_commit_callbacks(execute=True):
        first = sla.sla_sweep(now=T0 + minutes(61))
    with django_capture_on_commit_callbacks(execute=True):
        again = sla.sla_sweep(now=T0 + minutes(90))

    assert (first.breached, again.breached) == (1, 0)
    assert first.warned == 0  # past due already: a breach, not a late warning
    ticket.refresh_from_db()
    assert ticket.sla_breached and ticket.sla_warned
    assert ticket.events.filter(kind=TicketEvent.Kind.SLA_BREACHED).count() == 1
    assert {message.subject.split(":")[0] for message in mail.outbox} == {"[Alpha Testing Ltd] SLA breached"}
    assert "has breached its SLA" in mail.outbox[0].body


def test_a_breach_hands_the_ticket_to_the_escalation_team_and_its_available_agent(
    policy, people, make_user, django_capture_on_commit_callbacks
):
    agent, _lead, team = people
    senior = make_user("agent", name="Sam Senior", email="sam@alpha.test")
    tier2_lead = make_user("admin", name="Tia Two", email="tia@alpha.test")
    tier2 = TeamFactory(name="Tier 2", lead=tier2_lead)
    tier2.members.add(senior)
    AgentProfileFactory(user=senior)
    policy.breach_reassign_team = tier2
    policy.save()
    ticket = running_ticket(policy, assignee=agent, team=team)

    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep(now=T0 + minutes(61))

    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (tier2, senior)
    reasons = [event.data.get("reason", "") for event in ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED)]
    assert reasons[0] == "SLA first response breached: policy “Standard” hands it to Tier 2."
    assert reasons[1].startswith("Auto-assigned in Tier 2: Sam Senior is available")
    assert sorted(message.to[0] for message in mail.outbox) == ["ana@alpha.test", "leo@alpha.test", "tia@alpha.test"]
    assert "The policy hands breached tickets to Tier 2" in mail.outbox[0].body


def test_an_assignee_who_is_in_the_escalation_team_keeps_the_ticket(policy, people):
    agent, _lead, team = people
    tier2 = TeamFactory(name="Tier 2")
    tier2.members.add(agent)
    policy.breach_reassign_team = tier2
    policy.save()
    ticket = running_ticket(policy, assignee=agent, team=team)

    sla.sla_sweep(now=T0 + minutes(61))

    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (tier2, agent)


def test_without_auto_assign_the_escalated_ticket_waits_unassigned(policy, people, make_user):
    agent, _, team = people
    tier2 = TeamFactory(name="Tier 2")
    tier2.members.add(make_user("agent"))
    policy.breach_reassign_team = tier2
    policy.save()
    HelpdeskSettings.objects.update_or_create(pk=1, defaults={"auto_assign": False})
    ticket = running_ticket(policy, assignee=agent, team=team)

    sla.sla_sweep(now=T0 + minutes(61))

    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (tier2, None)


def test_unassigned_tickets_without_a_team_are_still_flagged_without_notices(policy):
    ticket = running_ticket(policy)

    result = sla.sla_sweep(now=T0 + minutes(61))

    ticket.refresh_from_db()
    assert result.breached == 1 and ticket.sla_breached
    assert mail.outbox == []


def test_solved_and_paused_tickets_are_left_alone(policy):
    solved = running_ticket(policy)
    Ticket.objects.filter(pk=solved.pk).update(status=Ticket.Status.SOLVED)
    paused = running_ticket(policy)
    Ticket.objects.filter(pk=paused.pk).update(status=Ticket.Status.ON_HOLD)

    assert sla.sla_sweep(now=T0 + minutes(600)) == sla.SweepResult(warned=0, breached=0)


def test_the_sweep_locks_rows_and_skips_those_another_sweep_holds(policy):
    """Two overlapping sweeps never handle one ticket twice: each takes rows FOR UPDATE SKIP LOCKED, and the
    flags it sets are re-checked when a row is locked (PostgreSQL re-evaluates the WHERE clause)."""
    running_ticket(policy)
    with CaptureQueriesContext(connection) as queries:
        sla.sla_sweep(now=T0 + minutes(50))
    selects = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]
    assert selects and all('FOR UPDATE OF "helpdesk_ticket" SKIP LOCKED' in sql for sql in selects[:2])


def test_the_sweep_task_runs_in_each_workspace(policy, tenant, other_tenant):
    ticket = running_ticket(policy)
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=datetime.now(UTC) - minutes(1))

    assert sla_sweep_task.delay().get() == {"warned": 0, "breached": 1}
    assert sla_sweep_fanout_task.delay().get() >= 2  # queued once per active workspace
    connection.set_tenant(tenant)
