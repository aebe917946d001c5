"""A text through the real parts: Twilio's signed webhook answered at once, the filing queued on the Redis broker
and run by a real Celery worker, which opens the SMS ticket in PostgreSQL."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client

from customers.models import Contact
from helpdesk.models import Ticket
from inbox.models import SmsMessage, SmsNumber
from inbox.tests.factories import SmsNumberFactory
from inbox.tests.fakes.twilio import post_signed, twilio_params
from tenants.services import workspace_domain

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]


def _until(condition, *, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.2)
    return result


def test_a_text_is_filed_on_a_new_ticket_by_the_worker(live_celery, live_data):
    our_number = f"+1415{uuid.uuid4().int % 10**7:07d}"
    customer = f"+1646{uuid.uuid4().int % 10**7:07d}"
    live_data.run(lambda: SmsNumberFactory(phone_number=our_number))
    live_data.add_cleanup(lambda: SmsNumber.objects.filter(phone_number=our_number).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(phone=customer).delete())
    live_data.add_cleanup(lambda: SmsMessage.objects.filter(from_number=customer).delete())
    params = twilio_params("The app crashes when I pay", to=our_number, sender=customer)

    webhook = Client(HTTP_HOST=workspace_domain("alpha"))
    response = live_data.run(lambda: post_signed(webhook, params))
    assert response.status_code == 200

    def filed() -> int | None:
        return live_data.run(
            lambda: (
                SmsMessage.objects.filter(message_sid=params["MessageSid"], status="filed")
                .values_list("ticket_id", flat=True)
                .first()
            )
        )

    ticket_id = _until(filed, what="the worker filing the text")
    live_data.add_cleanup(lambda: Ticket.objects.filter(pk=ticket_id).delete())
    ticket = live_data.run(lambda: Ticket.objects.select_related("requester").get(pk=ticket_id))
    assert (ticket.channel, ticket.subject, ticket.requester.phone) == ("sms", "The app crashes when I pay", customer)
    again = live_data.run(lambda: post_signed(webhook, params))  # Twilio's retry of the same webhook
    assert again.status_code == 200
    assert live_data.run(lambda: SmsMessage.objects.filter(from_number=customer).count()) == 1
