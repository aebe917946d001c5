"""Macro pages and the composer's macro endpoints: who may see and change which macro, the form's action rows and
preview, the `/` search, the panel, and actions applied with the reply (not before) or from the macro menu."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.tests.factories import ContactFactory
from helpdesk.models import Macro, MacroUse, Ticket, TicketMessage
from helpdesk.tests.factories import MacroFactory, TicketFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-composer"}


def url(name: str, *args) -> str:
    return reverse(f"macros:{name}", args=args)


def form_data(**values):
    return {"name": "Refund", "description": "", "reply_text": "Hi", "visibility": "personal"} | values


# --- Authorization ------------------------------------------------------------------------------


def test_another_agents_personal_macro_is_not_found(client, login, make_user):
    login("agent")
    theirs = MacroFactory(visibility=Macro.Visibility.PERSONAL, owner=make_user("agent"))
    ticket = TicketFactory()

    for target in (
        url("macro_update", theirs.pk),
        url("macro_delete", theirs.pk),
        url("macro_insert", ticket.pk, theirs.pk),
        url("macro_apply", ticket.pk, theirs.pk),
    ):
        assert client.get(target).status_code == 404, target
    assert client.post(url("macro_apply", ticket.pk, theirs.pk)).status_code == 404
    assert Macro.objects.filter(pk=theirs.pk).exists()


def test_an_agent_uses_shared_macros_but_cannot_change_them(client, login):
    login("agent")
    shared = MacroFactory(name="Everyone's")

    assert client.get(url("macro_update", shared.pk)).status_code == 403
    assert client.post(url("macro_delete", shared.pk)).status_code == 403
    page = client.get(url("macro_list")).content.decode()
    assert "Everyone&#x27;s" in page and url("macro_update", shared.pk) not in page


def test_a_viewer_cannot_use_macros(client, login):
    login("viewer")
    assert client.get(url("macro_list")).status_code == 403


def test_an_agent_cannot_make_a_macro_shared(client, login):
    agent = login("agent")

    response = client.post(url("macro_create"), form_data(visibility="shared"))

    assert response.status_code == 200 and "Only helpdesk admins can share macros" in response.content.decode()
    assert not Macro.objects.filter(owner=agent).exists()


# --- Management ---------------------------------------------------------------------------------


def test_the_empty_list_invites_to_create_one(client, login):
    login("agent")

    response = client.get(url("macro_list"))

    assert response.status_code == 200 and "No macros yet" in response.content.decode()


def test_the_list_searches_and_shows_usage_in_few_queries(client, login, django_assert_max_num_queries):
    login("agent")
    for number in range(5):
        MacroFactory(name=f"Refund {number}", usage_count=number)
    MacroFactory(name="Password reset", usage_count=40)

    with django_assert_max_num_queries(8):
        response = client.get(url("macro_list"), {"q": "refund", "sort": "most_used"})

    html = response.content.decode()
    assert html.index("Refund 4") < html.index("Refund 0") and "Password reset" not in html


def test_creating_a_macro_with_action_rows(client, login):
    agent = login("agent")

    response = client.post(
        url("macro_create"),
        form_data(reply_text="Hi {{ ticket.requester.first_name }}")
        | {
            "action_type": ["set_status", "add_tags", "assign_team_lead", ""],
            "action_value": ["pending", "billing", "", ""],
        },
    )

    assert response.status_code == 302
    macro = Macro.objects.get(owner=agent)
    assert macro.actions == [
        {"type": "set_status", "value": "pending"},
        {"type": "add_tags", "value": ["billing"]},
        {"type": "assign_team_lead"},
    ]


def test_a_bad_action_is_shown_beside_its_row_and_the_rows_are_kept(client, login):
    login("agent")

    response = client.post(
        url("macro_create"),
        form_data() | {"action_type": ["set_status", "set_priority"], "action_value": ["pending", "whenever"]},
    )

    html = response.content.decode()
    assert response.status_code == 200 and html.count('data-testid="macro-action-row"') == 2
    assert "Choose a priority: “whenever” is not one" in html
    assert not Macro.objects.exists()


def test_an_unknown_placeholder_is_refused_on_the_form(client, login):
    login("agent")

    response = client.post(url("macro_create"), form_data(reply_text="Hi {{ ticket.requester.nickname }}"))

    assert "Unknown placeholder ticket.requester.nickname" in response.content.decode()


def test_editing_keeps_the_rows_and_saves_changes(client, login):
    agent = login("agent")
    macro = MacroFactory(visibility="personal", owner=agent, actions=[{"type": "set_priority", "value": "high"}])

    page = client.get(url("macro_update", macro.pk)).content.decode()
    assert 'value="set_priority" selected' in page and 'value="high" selected' in page

    response = client.post(
        url("macro_update", macro.pk),
        form_data(name="Renamed") | {"action_type": ["set_priority"], "action_value": ["low"]},
    )
    assert response.status_code == 302
    macro.refresh_from_db()
    assert macro.name == "Renamed" and macro.actions == [{"type": "set_priority", "value": "low"}]


def test_an_action_row_has_the_input_of_its_type(client, login):
    login("agent")

    status = client.get(url("macro_action_row"), {"action_type": "set_status"}).content.decode()
    note = client.get(url("macro_action_row"), {"action_type": "add_note"}).content.decode()
    lead = client.get(url("macro_action_row"), {"action_type": "assign_team_lead"}).content.decode()

    assert '<option value="pending">Pending</option>' in status
    assert '<textarea name="action_value"' in note
    assert 'type="hidden" name="action_value"' in lead


def test_the_form_preview_renders_on_a_sample_ticket_and_changes_nothing(client, login):
    login("agent")
    ticket = TicketFactory(requester=ContactFactory(name="Hank Scorpio"), status=Ticket.Status.OPEN)

    response = client.post(
        url("macro_preview"),
        {
            "sample_ticket": ticket.pk,
            "reply_text": "Hi **{{ ticket.requester.first_name }}**",
            "action_type": ["set_status"],
            "action_value": ["pending"],
        },
    )

    html = response.content.decode()
    assert "Hi <strong>Hank</strong>" in html and "set status to Pending" in html
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_deleting_a_personal_macro(client, login):
    agent = login("agent")
    macro = MacroFactory(visibility="personal", owner=agent)

    assert client.post(url("macro_delete", macro.pk)).status_code == 302
    assert not Macro.objects.exists()


# --- Composer -----------------------------------------------------------------------------------


def test_slash_search_lists_own_and_shared_macros_most_used_first(client, login, make_user):
    agent = login("agent")
    MacroFactory(name="Shared one", usage_count=3)
    MacroFactory(name="Mine", visibility="personal", owner=agent, usage_count=7)
    MacroFactory(name="Someone else's", visibility="personal", owner=make_user("agent"), usage_count=99)
    ticket = TicketFactory()

    html = client.get(url("macro_search", ticket.pk), {"q": ""}).content.decode()

    assert html.index("Mine") < html.index("Shared one") and "Someone else" not in html
    assert 'role="option"' in html


def test_the_panel_has_the_rendered_text_and_what_will_change(client, login):
    login("agent")
    macro = MacroFactory(
        reply_text="Hi {{ ticket.requester.first_name }}", actions=[{"type": "set_status", "value": "pending"}]
    )
    ticket = TicketFactory(requester=ContactFactory(name="Hank Scorpio"), status=Ticket.Status.OPEN)

    html = client.get(url("macro_insert", ticket.pk, macro.pk)).content.decode()

    assert ">Hi Hank</textarea>" in html and "This macro will: set status to Pending." in html
    assert f'name="macro" value="{macro.pk}"' in html
    ticket.refresh_from_db()
    assert ticket.status == "open"
    macro.refresh_from_db()
    assert macro.usage_count == 0  # counted when the reply is sent


def test_the_macros_actions_are_applied_when_the_reply_is_sent(client, login):
    agent = login("agent")
    macro = MacroFactory(
        actions=[{"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["billing"]}]
    )
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    response = client.post(
        reverse("tickets:ticket_reply", args=[ticket.pk]),
        {"kind": "reply", "body": "Hi Hank", "macro": macro.pk},
        **HTMX,
    )

    assert response.status_code == 200
    ticket.refresh_from_db()
    macro.refresh_from_db()
    assert (ticket.status, ticket.tags) == ("pending", ["billing"])
    assert TicketMessage.objects.get(ticket=ticket).body == "Hi Hank"
    assert macro.usage_count == 1 and MacroUse.objects.get().user == agent
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert f"by macro #{macro.pk}" in page  # the history says what made the change


def test_the_status_the_agent_sends_with_wins_over_the_macros(client, login):
    login("agent")
    macro = MacroFactory(actions=[{"type": "set_status", "value": "pending"}])
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    client.post(
        reverse("tickets:ticket_reply", args=[ticket.pk]),
        {"kind": "reply", "body": "Done", "macro": macro.pk, "status": "solved"},
        **HTMX,
    )

    ticket.refresh_from_db()
    assert ticket.status == "solved"


def test_a_macro_that_fails_sends_nothing_and_keeps_its_panel(client, login):
    login("agent")
    macro = MacroFactory(name="Escalate", actions=[{"type": "assign_team_lead"}])
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    response = client.post(
        reverse("tickets:ticket_reply", args=[ticket.pk]), {"kind": "reply", "body": "Hi", "macro": macro.pk}, **HTMX
    )

    html = response.content.decode()
    assert "The macro “Escalate” cannot be applied" in html and 'data-testid="macro-panel"' in html
    assert not TicketMessage.objects.exists()
    macro.refresh_from_db()
    assert macro.usage_count == 0


def test_someone_elses_personal_macro_cannot_ride_along_a_reply(client, login, make_user):
    login("agent")
    theirs = MacroFactory(
        visibility="personal", owner=make_user("agent"), actions=[{"type": "set_priority", "value": "urgent"}]
    )
    ticket = TicketFactory()

    response = client.post(
        reverse("tickets:ticket_reply", args=[ticket.pk]), {"kind": "reply", "body": "Hi", "macro": theirs.pk}, **HTMX
    )

    assert "no longer available" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == "normal" and not TicketMessage.objects.exists()


def test_the_macro_menu_previews_then_applies_without_a_reply(client, login):
    login("agent")
    macro = MacroFactory(actions=[{"type": "set_priority", "value": "urgent"}])
    ticket = TicketFactory()

    menu = client.get(url("macro_search", ticket.pk), {"menu": "1"}).content.decode()
    assert url("macro_apply", ticket.pk, macro.pk) in menu
    preview = client.get(url("macro_apply", ticket.pk, macro.pk)).content.decode()
    assert "This macro will: set priority to Urgent." in preview
    ticket.refresh_from_db()
    assert ticket.priority == "normal"

    response = client.post(url("macro_apply", ticket.pk, macro.pk), HTTP_HX_REQUEST="true")

    # The page keeps what the agent is writing: its header and thread come back in place, the panel goes.
    assert response.status_code == 200 and response["HX-Retarget"] == "#ticket-header-slot"
    html = response.content.decode()
    assert 'id="ticket-header"' in html and '<div id="macro-apply-panel" aria-live="polite"' in html
    ticket.refresh_from_db()
    macro.refresh_from_db()
    assert ticket.priority == "urgent" and macro.usage_count == 1
    assert not TicketMessage.objects.exists()


def test_the_ticket_page_offers_macros_in_the_composer(client, login):
    login("agent")
    ticket = TicketFactory()

    html = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()

    assert "data-macro-picker" in html and 'data-testid="macro-menu"' in html and "js/macros.js" in html
