"""Macros: safe placeholders checked when saved, personal and shared, usage counts, actions applied only with the
reply that used the macro."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers.tests.factories import ContactFactory
from helpdesk.models import Macro, MacroUse, Ticket, TicketEvent, TicketMessage
from helpdesk.selectors import macros as selectors
from helpdesk.services import macros as services
from helpdesk.tests.factories import MacroFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user):
    return make_user("agent", name="Ann Lee")


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


def create(actor, **values):
    fields = {"name": "Billing answer", "reply_text": "Hi {{ ticket.requester.first_name }}"} | values
    return services.macro_create(actor=actor, **fields)


def test_a_macro_keeps_its_reply_text_and_checked_actions_in_one_shape(agent):
    macro = create(
        agent,
        actions=[
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": "Billing, vip"},
            {"type": "assign_agent", "value": str(agent.pk)},
            {"type": "assign_team_lead", "value": "ignored"},
        ],
    )

    assert macro.owner == agent and macro.visibility == Macro.Visibility.PERSONAL
    assert macro.actions == [
        {"type": "set_status", "value": "pending"},
        {"type": "add_tags", "value": ["billing", "vip"]},
        {"type": "assign_agent", "value": str(agent.pk)},
        {"type": "assign_team_lead"},
    ]


def test_placeholders_are_substituted_safely_from_the_ticket(agent):
    requester = ContactFactory(name="Hank Scorpio")
    ticket = TicketFactory(requester=requester)
    macro = create(
        agent,
        reply_text="Hi {{ ticket.requester.first_name }}, {{ agent.first_name }} here about #{{ ticket.id }}."
        ' {{ ticket.team.name|default:"Our team" }} is on it.',
    )

    text = selectors.macro_reply_render(reply_text=macro.reply_text, ticket_id=ticket.pk, actor_id=agent.pk)

    assert text == f"Hi Hank, Ann here about #{ticket.pk}. Our team is on it."


def test_a_value_that_looks_like_a_placeholder_is_not_substituted_again(agent):
    ticket = TicketFactory(requester=ContactFactory(name="{{ agent.name }}"))

    text = selectors.macro_reply_render(
        reply_text="Hi {{ ticket.requester.name }}", ticket_id=ticket.pk, actor_id=agent.pk
    )

    assert text == "Hi {{ agent.name }}"


def test_unknown_placeholders_are_refused_with_the_list_of_what_may_be_used(agent):
    with pytest.raises(ValidationError) as error:
        create(agent, reply_text="Hi {{ ticket.requester.firstname }} {{ user.password }}")

    with pytest.raises(ValidationError):
        create(agent, reply_text="Hi {{ ticket.requester.__class__ }}")
    (message,) = error.value.message_dict["reply_text"]
    assert message.startswith("Unknown placeholders ticket.requester.firstname, user.password. You may use:")
    assert "ticket.requester.first_name" in message
    assert not Macro.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "{% load static %}Hi",
        "{% if ticket %}yes{% endif %}",
        "Hi {{ ticket.requester.first_name|upper }}",
        "{{ settings.SECRET_KEY.0 }}",
    ],
)
def test_template_tags_and_other_filters_are_refused(agent, text):
    with pytest.raises(ValidationError) as error:
        create(agent, reply_text=text)

    assert "Template tags and other filters are not allowed" in " ".join(error.value.message_dict["reply_text"])


def test_a_macro_needs_a_text_or_actions(agent):
    with pytest.raises(ValidationError) as error:
        create(agent, reply_text="  ", actions=[])

    assert error.value.message_dict == {"reply_text": ["A macro needs a reply text, actions, or both."]}


def test_bad_actions_are_refused_by_row(agent):
    with pytest.raises(ValidationError) as error:
        create(agent, actions=[{"type": "set_status", "value": "pending"}, {"type": "set_priority", "value": "asap"}])

    assert set(error.value.message_dict) == {"actions.1"}


def test_only_helpdesk_admins_share_macros(agent, admin):
    with pytest.raises(ValidationError) as error:
        create(agent, visibility=Macro.Visibility.SHARED)
    assert "Only helpdesk admins can share macros" in error.value.message_dict["visibility"][0]

    shared = create(admin, visibility=Macro.Visibility.SHARED)

    with pytest.raises(PermissionDenied):
        services.macro_update(macro=shared, actor=agent, name="Mine now", reply_text="Hi")
    with pytest.raises(PermissionDenied):
        services.macro_delete(macro=shared, actor=agent)
    services.macro_update(macro=shared, actor=admin, name="Renamed", reply_text="Hi", visibility="shared")
    assert Macro.objects.get(pk=shared.pk).name == "Renamed"


def test_personal_macros_are_their_owners_and_shared_ones_everyones(agent, admin, make_user):
    other = make_user("agent")
    mine = create(agent, name="Mine")
    theirs = create(other, name="Theirs")
    shared = create(admin, name="Everyone's", visibility=Macro.Visibility.SHARED)

    assert set(selectors.macro_list(user=agent)) == {mine, shared}
    assert set(selectors.macro_list(user=other)) == {theirs, shared}
    with pytest.raises(Macro.DoesNotExist):
        selectors.macro_get(user=agent, macro_id=theirs.pk)
    with pytest.raises(PermissionDenied):
        services.macro_update(macro=theirs, actor=agent, name="Stolen", reply_text="Hi")


def test_search_puts_the_most_used_first_and_matches_words(agent):
    MacroFactory(name="Refund issued", usage_count=2)
    MacroFactory(name="Refund refused", usage_count=9)
    MacroFactory(name="Password reset", description="When they cannot sign in", usage_count=50)

    assert [m.name for m in selectors.macro_search(user=agent)] == ["Password reset", "Refund refused", "Refund issued"]
    assert [m.name for m in selectors.macro_search(user=agent, query="refund")] == ["Refund refused", "Refund issued"]
    assert [m.name for m in selectors.macro_search(user=agent, query="sign")] == ["Password reset"]


def test_list_sorts_by_use_and_last_use(agent):
    MacroFactory(name="B", usage_count=1)
    MacroFactory(name="A", usage_count=5)

    assert [m.name for m in selectors.macro_list(user=agent, sort="most_used")] == ["A", "B"]
    assert [m.name for m in selectors.macro_list(user=agent, sort="name", query="b")] == ["B"]


def test_applying_counts_the_use_and_changes_the_ticket_with_the_macro_as_source(agent):
    macro = MacroFactory(
        actions=[{"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["billing"]}]
    )
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    result = services.macro_apply(macro=macro, ticket=ticket, actor=agent)

    ticket.refresh_from_db()
    macro.refresh_from_db()
    assert (ticket.status, ticket.tags) == ("pending", ["billing"])
    assert {change.field for change in result.changes} == {"status", "tags"}
    assert macro.usage_count == 1 and macro.last_used_at is not None
    assert MacroUse.objects.filter(macro=macro, user=agent, ticket=ticket).count() == 1
    assert {event.data.get("source") for event in TicketEvent.objects.filter(ticket=ticket)} == {f"macro:{macro.pk}"}


def test_a_macro_that_cannot_apply_says_which_and_why(agent):
    macro = MacroFactory(name="Escalate", actions=[{"type": "assign_team_lead"}])
    ticket = TicketFactory()

    with pytest.raises(ValidationError) as error:
        services.macro_apply(macro=macro, ticket=ticket, actor=agent)

    assert error.value.message_dict["macro"][0].startswith("The macro “Escalate” cannot be applied: This ticket has no")
    macro.refresh_from_db()
    assert macro.usage_count == 0


def test_the_preview_changes_nothing_and_says_what_will_change(agent):
    macro = MacroFactory(
        actions=[{"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["billing"]}]
    )
    ticket = TicketFactory(status=Ticket.Status.OPEN, tags=["vip"])

    result = selectors.macro_dry_run(macro=macro, ticket_id=ticket.pk, actor_id=agent.pk)

    assert selectors.change_sentences(result) == ["set status to Pending", "add tag billing"]
    ticket.refresh_from_db()
    assert ticket.status == "open" and not TicketEvent.objects.filter(ticket=ticket).exists()
    assert not TicketMessage.objects.exists()
