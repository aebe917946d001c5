"""Ticket actions (helpdesk.facade.actions): each action, validation, dry runs, the source in history and webhooks,
placeholder values, and a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk import facade
from helpdesk.contracts import TICKET_UPDATED, TicketFieldChange, ticket_event, ticket_event_wanted
from helpdesk.models import Ticket, TicketEvent, TicketMessage
from helpdesk.tests.factories import AgentProfileFactory, CategoryFactory, TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db


def apply(ticket, actions, *, actor=None, source="macro:1", dry_run=False):
    return facade.ticket_actions_apply(
        ticket_id=ticket.pk, actions=actions, actor_id=getattr(actor, "pk", None), source=source, dry_run=dry_run
    )


@pytest.fixture
def agent(make_user):
    return make_user("agent", name="Ann Lee")


def test_set_status_priority_type_and_category_change_the_ticket_and_say_what_changed(agent):
    category = CategoryFactory(name="Billing")
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    result = apply(
        ticket,
        [
            {"type": "set_status", "value": "pending"},
            {"type": "set_priority", "value": "high"},
            {"type": "set_type", "value": "incident"},
            {"type": "set_category", "value": str(category.pk)},
        ],
        actor=agent,
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.type, ticket.category) == ("pending", "high", "incident", category)
    assert result.changes == (
        TicketFieldChange("status", "Status", "Open", "Pending"),
        TicketFieldChange("priority", "Priority", "Normal", "High"),
        TicketFieldChange("type", "Type", "Question", "Incident"),
        TicketFieldChange("category", "Category", "", "Billing"),
    )
    assert result.note_added is False


def test_assign_agent_and_unassign(agent):
    ticket = TicketFactory(status=Ticket.Status.NEW)

    result = apply(ticket, [{"type": "assign_agent", "value": str(agent.pk)}], actor=agent)

    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.status == Ticket.Status.OPEN  # a new ticket opens when assigned
    assert {change.field for change in result.changes} == {"assignee", "status"}

    apply(ticket, [{"type": "assign_agent", "value": ""}], actor=agent)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_assign_team_then_team_lead_uses_the_new_team(make_user):
    lead = make_user("agent", name="Lena Lead")
    team = TeamFactory(name="Tier 2", lead=lead)
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    result = apply(ticket, [{"type": "assign_team", "value": team.pk}, {"type": "assign_team_lead"}])

    ticket.refresh_from_db()
    assert ticket.team == team and ticket.assignee == lead
    assert TicketFieldChange("assignee", "Assignee", "", "Lena Lead") in result.changes


def test_assign_team_lead_without_a_team_is_refused_and_changes_nothing():
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    with pytest.raises(ValidationError) as error:
        apply(ticket, [{"type": "set_priority", "value": "urgent"}, {"type": "assign_team_lead"}])

    assert error.value.message_dict == {
        "actions.1": ["This ticket has no team, so there is no team lead to assign it to."]
    }
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_round_robin_gives_the_ticket_to_the_team_member_who_waited_longest(make_user):
    first, second, outsider = make_user(name="First"), make_user(name="Second"), make_user(name="Outsider")
    now = timezone.now()
    AgentProfileFactory(user=first, last_assigned_at=now - timedelta(minutes=5))
    AgentProfileFactory(user=second, last_assigned_at=now - timedelta(hours=2))
    AgentProfileFactory(user=outsider, last_assigned_at=None)
    team = TeamFactory()
    team.members.set([first, second])
    one, two = TicketFactory(), TicketFactory()

    apply(one, [{"type": "assign_round_robin", "value": team.pk}])
    apply(two, [{"type": "assign_round_robin", "value": team.pk}])

    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.assignee, one.team) == (second, team)
    assert two.assignee == first  # `second` went to the back of the line
    event = TicketEvent.objects.filter(ticket=one, kind=TicketEvent.Kind.ASSIGNED).get()
    assert "Second" in event.data["reason"]


def test_add_and_remove_tags_keep_the_others():
    ticket = TicketFactory(tags=["vip", "printer"])

    result = apply(
        ticket, [{"type": "add_tags", "value": ["Billing", "vip"]}, {"type": "remove_tags", "value": "printer"}]
    )

    ticket.refresh_from_db()
    assert ticket.tags == ["vip", "billing"]
    assert result.changes == (TicketFieldChange("tags", "Tags", "vip, printer", "vip, billing"),)


def test_add_note_writes_an_internal_note_by_the_actor_or_the_system(agent):
    ticket = TicketFactory()

    result = apply(ticket, [{"type": "add_note", "value": "Checked the **invoice**."}], actor=None, source="rule:12")

    note = TicketMessage.objects.get(ticket=ticket)
    assert (note.kind, note.body, note.author) == (TicketMessage.Kind.NOTE, "Checked the **invoice**.", None)
    assert result.note_added and result.changes == ()
    assert TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.NOTED).data["source"] == "rule:12"


def test_every_problem_is_reported_at_once_keyed_by_the_action_and_nothing_is_applied(make_user):
    inactive = make_user("agent", is_active=False)
    ticket = TicketFactory()

    with pytest.raises(ValidationError) as error:
        apply(
            ticket,
            [
                {"type": "set_status", "value": "done"},
                {"type": "set_priority", "value": "high"},
                {"type": "assign_agent", "value": inactive.pk},
                {"type": "assign_team", "value": 999_999},
                {"type": "add_tags", "value": []},
                {"type": "add_note", "value": "   "},
                {"type": "launch_rocket"},
            ],
        )

    messages = error.value.message_dict
    assert set(messages) == {"actions.0", "actions.2", "actions.3", "actions.4", "actions.5", "actions.6"}
    assert messages["actions.0"] == [
        "Choose a status: “done” is not one (New, Open, Pending, On hold, Solved, Closed)."
    ]
    assert "cannot take tickets" in messages["actions.2"][0]
    assert messages["actions.3"] == ["That team no longer exists; choose another one."]
    assert messages["actions.4"] == ["Name at least one tag."]
    assert messages["actions.5"] == ["The note cannot be empty."]
    assert messages["actions.6"][0].startswith("“launch_rocket” is not an action.")
    ticket.refresh_from_db()
    assert ticket.priority == "normal" and not TicketEvent.objects.filter(ticket=ticket).exists()


def test_validate_checks_without_a_ticket():
    facade.ticket_actions_validate([{"type": "set_priority", "value": "low"}, {"type": "assign_team_lead"}])
    with pytest.raises(ValidationError):
        facade.ticket_actions_validate("set_status")


def test_reopening_a_merged_ticket_is_refused():
    target = TicketFactory()
    merged = TicketFactory(status=Ticket.Status.CLOSED, merged_into=target)

    with pytest.raises(ValidationError) as error:
        apply(merged, [{"type": "set_status", "value": "open"}], dry_run=True)

    assert f"merged into #{target.pk}" in error.value.messages[0]


def test_dry_run_says_the_same_changes_and_writes_nothing(agent, django_capture_on_commit_callbacks):
    lead = agent
    team = TeamFactory(name="Tier 2", lead=lead)
    ticket = TicketFactory(status=Ticket.Status.NEW, tags=["vip"])
    actions = [
        {"type": "assign_team", "value": team.pk},
        {"type": "assign_team_lead"},
        {"type": "add_tags", "value": ["billing"]},
        {"type": "set_priority", "value": "urgent"},
        {"type": "add_note", "value": "Escalated."},
    ]
    version = ticket.version

    with django_capture_on_commit_callbacks() as callbacks:
        preview = apply(ticket, actions, actor=agent, dry_run=True)

    assert callbacks == []  # no live event, no webhook, no task
    ticket.refresh_from_db()
    assert (ticket.version, ticket.team, ticket.assignee, ticket.tags) == (version, None, None, ["vip"])
    assert not TicketEvent.objects.filter(ticket=ticket).exists()
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    assert preview.note_added
    assert {change.field: change.after for change in preview.changes} == {
        "status": "Open",
        "priority": "Urgent",
        "team": "Tier 2",
        "assignee": "Ann Lee",
        "tags": "vip, billing",
    }

    applied = apply(ticket, actions, actor=agent)

    assert applied.changes == preview.changes and applied.note_added


def test_source_is_in_the_history_and_the_ticket_updated_webhook_data(agent, django_capture_on_commit_callbacks):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    sent = []

    def wanted(sender, *, event, **kwargs):
        return True

    def receive(sender, *, event, **kwargs):
        sent.append(event)

    ticket_event_wanted.connect(wanted, dispatch_uid="test-actions-wanted")
    ticket_event.connect(receive, dispatch_uid="test-actions-event")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            apply(
                ticket,
                [{"type": "set_priority", "value": "high"}, {"type": "set_status", "value": "pending"}],
                actor=agent,
                source="macro:3",
            )
    finally:
        ticket_event_wanted.disconnect(dispatch_uid="test-actions-wanted")
        ticket_event.disconnect(dispatch_uid="test-actions-event")

    updates = [payload for payload in sent if payload.event == TICKET_UPDATED]
    assert len(updates) == 2
    assert all(payload.data["source"] == "macro:3" for payload in updates)
    assert {tuple(payload.data["changes"]) for payload in updates} == {("priority",), ("status",)}
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind=TicketEvent.Kind.CREATED)
    assert {(event.kind, event.actor_id, event.data["source"]) for event in events} == {
        (TicketEvent.Kind.UPDATED, agent.pk, "macro:3"),
        (TicketEvent.Kind.STATUS, agent.pk, "macro:3"),
    }


def test_changes_by_hand_carry_no_source(agent):
    from helpdesk.services import tickets as services

    ticket = TicketFactory()
    services.ticket_update(ticket=ticket, actor=agent, data={"priority": "high"})

    assert "source" not in TicketEvent.objects.get(ticket=ticket).data


def test_nothing_to_change_changes_nothing():
    ticket = TicketFactory(priority="high")

    result = apply(ticket, [{"type": "set_priority", "value": "high"}, {"type": "remove_tags", "value": ["x"]}])

    assert result.changes == () and not TicketEvent.objects.filter(ticket=ticket).exists()


def test_apply_queries_are_bounded(agent, make_user, django_assert_max_num_queries):
    team = TeamFactory(lead=make_user("agent"))
    category = CategoryFactory()
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    actions = [
        {"type": "set_status", "value": "pending"},
        {"type": "set_priority", "value": "high"},
        {"type": "set_category", "value": category.pk},
        {"type": "assign_team", "value": team.pk},
        {"type": "assign_team_lead"},
        {"type": "add_tags", "value": ["billing"]},
        {"type": "add_note", "value": "Done."},
    ]

    with django_assert_max_num_queries(5):  # ticket, actor, teams, category
        apply(ticket, actions, actor=agent, dry_run=True)
    with django_assert_max_num_queries(50):  # the services of four writes and a note
        apply(ticket, actions, actor=agent)


def test_specs_list_every_action_with_the_workspace_choices(agent):
    team = TeamFactory(name="Tier 2")
    CategoryFactory(name="Billing")

    specs = {spec.type: spec for spec in facade.ticket_action_specs()}

    assert set(specs) == set(facade.TICKET_ACTION_TYPES)
    assert ("pending", "Pending") in specs["set_status"].choices
    assert (str(agent.pk), "Ann Lee") in specs["assign_agent"].choices
    assert specs["assign_round_robin"].choices == ((str(team.pk), "Tier 2"),)
    assert [name for _pk, name in specs["set_category"].choices] == ["No category", "Billing"]
    assert specs["assign_team_lead"].value_kind == "none" and specs["add_note"].value_kind == "text"


def test_placeholder_context_is_plain_strings_of_the_ticket_and_agent(agent):
    customer = CustomerFactory(name="Globex")
    requester = ContactFactory(customer=customer, name="Hank Scorpio", email="hank@globex.test")
    team = TeamFactory(name="Tier 2")
    ticket = TicketFactory(requester=requester, assignee=agent, team=team, priority="urgent")

    context = facade.ticket_placeholder_context(ticket.pk, actor_id=agent.pk)

    assert context["ticket"]["requester"] == {"name": "Hank Scorpio", "first_name": "Hank", "email": "hank@globex.test"}
    assert context["ticket"]["company"] == {"name": "Globex"}
    assert context["ticket"]["priority"] == "Urgent" and context["ticket"]["id"] == str(ticket.pk)
    assert context["ticket"]["link"].endswith(f"/tickets/{ticket.pk}/")
    assert context["ticket"]["assignee"]["first_name"] == "Ann" and context["ticket"]["team"]["name"] == "Tier 2"
    assert context["agent"] == {"name": "Ann Lee", "first_name": "Ann"}
    assert context["workspace"]["name"]
    assert "ticket.requester.first_name" in facade.TICKET_PLACEHOLDERS
