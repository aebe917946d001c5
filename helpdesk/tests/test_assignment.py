"""Automatic assignment: team from the category, available agents with room, skills first, least load, then
round-robin; the reason in the ticket's history; never failing the ticket's creation."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from helpdesk.models import AgentProfile, HelpdeskSettings, Ticket, TicketEvent
from helpdesk.services import assignment
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import (
    AgentProfileFactory,
    CategoryFactory,
    SkillFactory,
    TeamFactory,
    TicketFactory,
    ticket_create_with_intake,
)

pytestmark = pytest.mark.django_db


def create(**overrides) -> Ticket:
    values = {"subject": "Printer jams", "description": "Paper jams on page two.", "requester_email": "a@b.test"}
    return ticket_create_with_intake(**(values | overrides))


def agent(make_user, name: str, **profile) -> AgentProfile:
    return AgentProfileFactory(user=make_user("agent", name=name), **profile)


def assigned_reason(ticket: Ticket) -> str:
    return ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).latest("id").data["reason"]


def test_new_tickets_go_round_robin_among_equally_loaded_agents(make_user):
    agents = [agent(make_user, name) for name in ("Ana", "Ben", "Cy")]
    # Each has one ticket already: equal load, so the turn decides.
    for profile in agents:
        TicketFactory(assignee=profile.user, status=Ticket.Status.OPEN)

    owners = []
    for _ in range(6):
        ticket = create()
        owners.append(ticket.assignee.name)
        ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.SOLVED, actor=None)

    assert owners[:3] == ["Ana", "Ben", "Cy"] and owners[3:] == owners[:3]


def test_the_least_loaded_agent_comes_first(make_user):
    busy, calm = agent(make_user, "Busy"), agent(make_user, "Calm")
    for _ in range(3):
        TicketFactory(assignee=busy.user, status=Ticket.Status.OPEN)
    TicketFactory(assignee=calm.user, status=Ticket.Status.PENDING)

    ticket = create()

    assert ticket.assignee == calm.user
    assert ticket.status == Ticket.Status.OPEN
    reason = assigned_reason(ticket)
    assert reason == (
        "Auto-assigned: Calm is available; has 1 of at most 25 open tickets "
        "(fewest open tickets, then whoever waited longest for one)."
    )


def test_fairness_over_many_tickets_keeps_loads_within_one(make_user):
    profiles = [agent(make_user, f"Agent {n}") for n in range(4)]

    for _ in range(10):
        create()

    loads = Counter(Ticket.objects.values_list("assignee", flat=True))
    assert sorted(loads.values()) == [2, 2, 3, 3]
    assert set(loads) == {profile.user_id for profile in profiles}


def test_unavailable_agents_and_full_desks_are_skipped(make_user):
    agent(make_user, "Away", availability="away")
    agent(make_user, "Busy", availability="busy")
    full = agent(make_user, "Full", max_open_tickets=1)
    TicketFactory(assignee=full.user, status=Ticket.Status.OPEN)
    free = agent(make_user, "Free")
    make_user("agent", name="No profile")
    make_user("viewer", name="Viewer")
    AgentProfileFactory(user=make_user("sales", name="Sales"))

    assert create().assignee == free.user


def test_skills_matching_category_or_language_win_over_load(make_user):
    billing = SkillFactory(name="Billing")
    german = SkillFactory(name="German")
    generalist = agent(make_user, "Generalist")
    specialist = agent(make_user, "Specialist")
    specialist.skills.add(billing)
    speaker = agent(make_user, "Speaker")
    speaker.skills.add(german)
    TicketFactory(assignee=specialist.user, status=Ticket.Status.OPEN)

    by_category = create(category=CategoryFactory(name="billing"))
    german_ticket = TicketFactory(language="de")
    result = assignment.ticket_auto_assign(german_ticket)

    assert by_category.assignee == specialist.user
    assert "knows Billing" in assigned_reason(by_category)
    assert result.agent == speaker.user and "knows German" in result.reason
    assert generalist.user not in (by_category.assignee, result.agent)


def test_without_a_matching_skill_anyone_available_takes_it_and_the_reason_says_so(make_user):
    only = agent(make_user, "Only")

    ticket = create(category=CategoryFactory(name="Shipping"))

    assert ticket.assignee == only.user
    assert "nobody available knows shipping" in assigned_reason(ticket)


def test_the_categorys_team_is_set_and_only_its_members_are_picked(make_user):
    outsider = agent(make_user, "Outsider")
    member = agent(make_user, "Member")
    TicketFactory(assignee=member.user, status=Ticket.Status.OPEN)
    team = TeamFactory(name="Billing team")
    team.members.add(member.user)

    ticket = create(category=CategoryFactory(name="Invoices", default_team=team))

    assert (ticket.team, ticket.assignee) == (team, member.user)
    assert assigned_reason(ticket).startswith("Auto-assigned in Billing team: Member is available")
    assert outsider.user != ticket.assignee


def test_a_team_without_members_draws_from_everyone(make_user):
    anyone = agent(make_user, "Anyone")
    ticket = create(team=TeamFactory(name="New team"))

    assert ticket.assignee == anyone.user


def test_nobody_available_leaves_it_unassigned_with_the_reason(make_user):
    agent(make_user, "Away", availability="away")
    team = TeamFactory(name="Night shift")

    ticket = create(category=CategoryFactory(default_team=team))

    assert ticket.assignee is None and ticket.team == team
    assert ticket.status == Ticket.Status.NEW
    assert assigned_reason(ticket) == (
        "Not auto-assigned: nobody in Night shift is available with room for another ticket; it waits in the queue."
    )


def test_nothing_happens_when_switched_off_or_not_set_up(make_user):
    ticket = create()
    assert ticket.assignee is None
    assert not ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()  # no profiles yet: no noise

    agent(make_user, "Ready")
    HelpdeskSettings.objects.update_or_create(pk=1, defaults={"auto_assign": False})
    ticket = create()
    assert ticket.assignee is None
    assert assignment.ticket_auto_assign(ticket).reason == "Automatic assignment is off."


def test_an_explicit_assignee_is_kept(make_user):
    agent(make_user, "Auto")
    chosen = make_user("agent", name="Chosen")

    ticket = create(assignee=chosen)

    assert ticket.assignee == chosen
    assert not ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_a_failure_never_fails_the_ticket(make_user):
    agent(make_user, "Ready")
    with mock.patch.object(assignment, "_candidates", side_effect=RuntimeError("database hiccup")):
        ticket = create()

    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert ticket.assignee is None


def test_the_turn_moves_on_after_each_assignment(make_user):
    first, second = agent(make_user, "First"), agent(make_user, "Second")
    AgentProfile.objects.filter(pk=first.pk).update(last_assigned_at=timezone.now() - timedelta(hours=1))

    assert create().assignee == second.user  # never assigned: goes first
    assert AgentProfile.objects.get(pk=second.pk).last_assigned_at is not None


def test_the_candidate_row_is_locked_so_simultaneous_creates_pick_different_agents(make_user):
    agent(make_user, "Only")
    sql = str(assignment._candidates(None, set()).query)

    assert 'FOR UPDATE OF "helpdesk_agentprofile" SKIP LOCKED' in sql
