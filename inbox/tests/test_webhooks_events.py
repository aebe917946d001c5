"""What the helpdesk tells webhooks (helpdesk.contracts.ticket_event), after commit, shaped like the REST API:
ticket created (after intake), updated, solved, public messages (never internal notes), SLA breaches, CSAT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.contracts import TicketEventPayload, ticket_event, ticket_event_wanted
from helpdesk.models import Ticket
from helpdesk.services import csat, sla
from helpdesk.services import tickets as services
from helpdesk.tests.factories import BusinessCalendarFactory, SLAPolicyFactory, TicketFactory
from inbox.models import WebhookDelivery
from inbox.services import webhooks

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    seen: list[TicketEventPayload] = []

    def listen(sender, *, event: TicketEventPayload, **kwargs) -> None:
        seen.append(event)

    ticket_event.connect(listen, dispatch_uid="test-webhook-events")
    ticket_event_wanted.connect(wanted, dispatch_uid="test-webhook-events")
    yield seen
    ticket_event.disconnect(dispatch_uid="test-webhook-events")
    ticket_event_wanted.disconnect(dispatch_uid="test-webhook-events")


def wanted(sender, *, event: str, **kwargs) -> bool:
    return True


def test_a_new_ticket_is_announced_after_its_intake_with_the_api_s_fields(
    events, make_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create(subject="Printer on fire", description="Smoke.", requester_email="a@b.test")
    [created] = [event for event in events if event.event == "ticket.created"]
    assert created.ticket_id == ticket.pk and created.message is None
    assert {"id", "number", "subject", "status", "priority", "requester", "sla", "description", "version"} <= set(
        created.ticket
    )
    assert created.ticket["requester"]["email"] == "a@b.test" and created.ticket["description"] == "Smoke."


def test_nothing_is_described_when_no_subscription_wants_the_event(make_user, django_capture_on_commit_callbacks):
    """Without a subscription to it, the helpdesk does not even build the payload (it costs queries)."""
    seen = []
    ticket_event.connect(lambda sender, **kwargs: seen.append(kwargs), dispatch_uid="test-unwanted", weak=False)
    try:
        webhooks.webhook_subscription_create(url="https://hooks.example.com/in", events=["ticket.solved"])
        ticket = TicketFactory()
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_update(ticket=ticket, actor=make_user("agent"), data={"subject": "Renamed"})
    finally:
        ticket_event.disconnect(dispatch_uid="test-unwanted")
    assert seen == [] and not WebhookDelivery.objects.exists()


def test_nothing_is_announced_before_the_commit(events, make_user):
    agent = make_user("agent")
    ticket = TicketFactory()
    services.ticket_update(ticket=ticket, actor=agent, data={"subject": "Renamed"})
    assert events == []  # the test's transaction never commits


def test_updates_solves_and_public_messages_are_announced_but_internal_notes_are_not(
    events, make_user, django_capture_on_commit_callbacks
):
    agent = make_user("agent")
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_update(ticket=ticket, actor=agent, data={"priority": "high"})
        services.message_add(ticket=ticket, actor=agent, body="Secret thoughts", kind="note")
        reply = services.message_add(ticket=ticket, actor=agent, body="Try the blue button.")
        services.ticket_status_set(ticket=ticket, status=Ticket.Status.SOLVED, actor=agent)
        answer = services.customer_message_add(ticket=ticket, body="It worked, thanks")
    assert [event.event for event in events] == [
        "ticket.updated",
        "message.created",
        "ticket.solved",
        "message.created",
    ]
    updated = events[0]
    assert updated.data == {"changes": {"priority": ["normal", "high"]}} and updated.ticket["priority"] == "high"
    messages = [event.message for event in events if event.event == "message.created"]
    assert [message["id"] for message in messages] == [reply.pk, answer.pk]
    assert all("Secret" not in message["body"] for message in messages)
    assert messages[1]["from_customer"] is True and messages[0]["kind"] == "reply"
    solved = next(event for event in events if event.event == "ticket.solved")
    assert solved.data == {"changes": {"status": ["open", "solved"]}}


def test_a_csat_answer_is_announced_with_its_rating(events, django_capture_on_commit_callbacks):
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    survey = csat.SatisfactionSurvey.objects.create(ticket=ticket)
    with django_capture_on_commit_callbacks(execute=True):
        csat.survey_answer(survey=survey, rating=5, comment="Quick and kind")
    [answered] = events
    assert answered.event == "csat.received" and answered.data == {"rating": 5, "comment": "Quick and kind"}


def test_an_sla_breach_is_announced_once(events, django_capture_on_commit_callbacks):
    start = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    SLAPolicyFactory(
        calendar=BusinessCalendarFactory(always_open=True),
        first_response_minutes=60,
        next_response_minutes=None,
        resolution_minutes=480,
    )
    ticket = TicketFactory(created=start, last_customer_message_at=start, status=Ticket.Status.OPEN)
    sla.ticket_sla_refresh(ticket, now=start)
    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep(now=start + timedelta(minutes=61))
        sla.sla_sweep(now=start + timedelta(minutes=90))
    [breached] = [event for event in events if event.event == "sla.breached"]
    assert breached.ticket_id == ticket.pk and breached.data["target"] == "first_response"
    assert breached.ticket["sla"]["breached"] is True


def test_the_inbox_turns_an_event_into_deliveries_for_subscribers(make_user, django_capture_on_commit_callbacks):
    subscription, _ = webhooks.webhook_subscription_create(
        url="https://hooks.example.com/in", events=["ticket.updated"]
    )
    agent = make_user("agent")
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.ticket_update(ticket=ticket, actor=agent, data={"subject": "Renamed"})
    for callback in callbacks:  # the helpdesk's after-commit sends; the delivery's own send is not run here
        with django_capture_on_commit_callbacks(execute=False):
            callback()
    [delivery] = WebhookDelivery.objects.filter(subscription=subscription)
    assert delivery.event == "ticket.updated" and delivery.ticket_id == ticket.pk
    assert '"subject":"Renamed"' in delivery.body
