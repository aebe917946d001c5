"""Automation's own actions: email from a template (safe placeholders), SMS through the inbox's Twilio number,
webhook through the inbox's signed sender, and AI actions that land on the ticket for an agent."""

from __future__ import annotations

import json

import pytest

from automation.engine import Event, event_process
from automation.tests.factories import RuleFactory
from helpdesk.models import TicketDraft, TicketMessage
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def fire(ticket, actions):
    from automation.compiled import rules_changed

    RuleFactory(conditions={"all": []}, actions=actions)
    rules_changed()
    (run,) = event_process(Event("ticket.created", "ticket", ticket.pk))
    return run


def test_an_email_from_a_template_fills_placeholders_safely():
    from inbox.models import OutboundEmail

    ticket = TicketFactory(subject="Printer {{ settings.SECRET_KEY }} jam")
    run = fire(
        ticket,
        [
            {
                "type": "send_email",
                "value": {
                    "to": "{{ ticket.requester.email }}",
                    "subject": "About {{ ticket.subject }}",
                    "body": "Hi {{ ticket.requester.first_name|default:'there' }} {% debug %}",
                },
            }
        ],
    )

    assert run.error == ""
    email = OutboundEmail.objects.get()
    assert email.subject == "About Printer {{ settings.SECRET_KEY }} jam"  # a value is never rendered again
    assert "{% debug %}" in email.body and ticket.requester.email in email.to


def test_a_webhook_goes_through_the_inbox_sender():
    from inbox.models import WebhookDelivery
    from inbox.tests.factories import WebhookSubscriptionFactory

    hook = WebhookSubscriptionFactory()
    ticket = TicketFactory(priority="high")
    run = fire(ticket, [{"type": "call_webhook", "value": str(hook.pk)}])

    assert run.error == ""
    delivery = WebhookDelivery.objects.get(subscription=hook)
    body = json.loads(delivery.body)
    assert body["event"] == "automation.rule" and body["data"]["ticket"]["priority"] == "high"


def test_an_sms_goes_from_the_workspaces_number():
    from inbox.models import SmsMessage
    from inbox.tests.factories import SmsNumberFactory

    SmsNumberFactory()
    ticket = TicketFactory()
    run = fire(
        ticket, [{"type": "send_sms", "value": {"to": "+14155550199", "body": "Ticket {{ ticket.id }} escalated"}}]
    )

    assert run.error == ""
    text = SmsMessage.objects.get(to_number="+14155550199")
    assert text.body == f"Ticket {ticket.pk} escalated" and text.ticket_id == ticket.pk


def test_ai_summary_lands_as_an_internal_note_and_a_draft_is_never_sent():
    ticket = TicketFactory(original_description="The printer jams on every second page since the update on Monday.")
    run = fire(ticket, [{"type": "ai_summarize"}, {"type": "ai_draft_reply"}])

    assert run.error == "", run.changes
    note = TicketMessage.objects.get(ticket=ticket)
    assert note.kind == TicketMessage.Kind.NOTE and note.body.startswith("**AI summary**")
    assert not TicketMessage.objects.filter(ticket=ticket, kind=TicketMessage.Kind.REPLY).exists()
    assert TicketDraft.objects.filter(ticket=ticket).count() <= 1  # kept for review when the KB had a match


def test_notify_people_tells_the_roles_and_people_chosen_with_a_link(make_user, django_capture_on_commit_callbacks):
    from helpdesk.tests.factories import TeamFactory
    from notifications.models import Notification

    lead, member, assignee, named, bystander = (make_user("agent") for _ in range(5))
    team = TeamFactory(lead=lead)
    team.members.add(lead, member)
    ticket = TicketFactory(subject="Printer on fire", team=team, assignee=assignee)
    value = {"people": ["team_lead", "assignee", f"user:{named.pk}"], "message": "Look at {{ ticket.subject }} now"}
    with django_capture_on_commit_callbacks(execute=True):
        run = fire(ticket, [{"type": "notify_people", "value": value}])

    assert run.error == ""
    told = Notification.objects.filter(event="automation.notice")
    assert set(told.values_list("user_id", flat=True)) == {lead.pk, assignee.pk, named.pk}
    notice = told.get(user=lead)
    assert (notice.title, notice.body) == (f"Ticket #{ticket.pk} Printer on fire", "Look at Printer on fire now")
    assert notice.link == f"/tickets/{ticket.pk}/"
    assert not Notification.objects.filter(user__in=[member, bystander]).exists()


def test_a_dry_run_names_who_would_be_notified_and_tells_nobody(make_user, django_capture_on_commit_callbacks):
    from automation.compiled import compile_rule
    from automation.engine import rule_dry_run
    from notifications.models import Notification

    assignee = make_user("agent", name="Ada Agent")
    ticket = TicketFactory(priority="urgent", assignee=assignee)
    rule = RuleFactory(actions=[{"type": "notify_people", "value": {"people": ["assignee"], "message": "Hi"}}])
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = [row for row in rule_dry_run(compile_rule(rule)) if row.object_id == ticket.pk]

    assert row.matched and row.outcomes[0]["detail"] == "Would notify Ada Agent"
    assert row.path == f"/tickets/{ticket.pk}/"
    assert not Notification.objects.exists()
