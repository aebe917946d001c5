"""Through the real broker and worker: a ticket change committed in the workspace reaches a local endpoint,
signed, sent by the Celery worker (not in this process)."""

from __future__ import annotations

import uuid

import pytest

from helpdesk.tests.factories import TicketFactory
from inbox.tests.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]


def test_a_committed_ticket_change_is_delivered_by_the_worker(live_celery, live_data):
    from customers.models import Contact, Customer
    from helpdesk.models import Ticket
    from helpdesk.services import tickets as services
    from inbox.models import WebhookDelivery, WebhookSubscription
    from inbox.services import webhooks

    agent = live_data.create_user("agent")
    subject = f"Live webhook {uuid.uuid4().hex[:8]}"
    with webhook_receiver() as receiver:
        subscription, receiver.secret = live_data.run(
            lambda: webhooks.webhook_subscription_create(url=receiver.url, events=["ticket.updated"])
        )
        live_data.add_cleanup(lambda: WebhookSubscription.objects.filter(pk=subscription.pk).delete())
        ticket = live_data.run(lambda: TicketFactory(subject="Before"))
        # Last added, first run: the ticket, then its requester, then the requester's company.
        live_data.add_cleanup(lambda: Customer.objects.filter(pk=ticket.customer_id).delete())
        live_data.add_cleanup(lambda: Contact.objects.filter(pk=ticket.requester_id).delete())
        live_data.add_cleanup(lambda: Ticket.objects.filter(pk=ticket.pk).delete())

        live_data.run(lambda: services.ticket_update(ticket=ticket, actor=agent.user, data={"subject": subject}))
        [received] = receiver.wait_for(1, timeout=60)

    assert received.signature_ok
    assert received.headers["X-Switchboard-Event"] == "ticket.updated"
    assert received.json["data"]["ticket"]["subject"] == subject
    delivery = live_data.run(lambda: WebhookDelivery.objects.get(subscription_id=subscription.pk))
    assert str(delivery.delivery_id) == received.headers["X-Switchboard-Delivery"]
