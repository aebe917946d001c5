"""An agent's reply through the real parts: committed, queued on the Redis broker, sent by a real worker to the
suite's SMTP server, and its delivery reported on the thread entry."""

from __future__ import annotations

import time
import uuid

import pytest

from customers.models import Contact, Customer
from helpdesk.models import Ticket, TicketMessage
from helpdesk.tests.factories import TicketFactory
from inbox.models import Mailbox, OutboundEmail
from inbox.tests.factories import MailboxFactory

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]


def _until(condition, *, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.1)
    return result


def test_a_reply_is_sent_by_the_worker_and_reported_sent(live_celery, live_data, smtp_server):
    from helpdesk.services.tickets import message_add

    tag = uuid.uuid4().hex[:8]
    agent = live_data.create_user("agent", name="Wendy Worker")

    def mailbox_create() -> Mailbox:
        options = {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port, "smtp_security": "none"}
        return MailboxFactory(address=f"help-{tag}@acme.test", display_name="Acme Support", is_default=True,
                              settings=options)  # fmt: skip

    mailbox = live_data.run(mailbox_create)
    live_data.add_cleanup(lambda: Mailbox.objects.filter(pk=mailbox.pk).delete())
    ticket = live_data.run(lambda: TicketFactory(subject=f"Live {tag}", requester__email=f"ann-{tag}@customer.test"))
    live_data.add_cleanup(lambda: Customer.objects.filter(pk=ticket.customer_id).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(pk=ticket.requester_id).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(pk=ticket.pk).delete())
    live_data.add_cleanup(lambda: OutboundEmail.objects.filter(ticket_id=ticket.pk).delete())

    message = live_data.run(lambda: message_add(ticket=Ticket.objects.get(pk=ticket.pk), actor=agent.user, body="Hi"))

    received = _until(lambda: smtp_server.received, what="the email's arrival")
    assert received[0].rcpt_tos == [f"ann-{tag}@customer.test"]
    assert received[0].message["From"].addresses[0].display_name == "Wendy Worker via Acme Support"
    entry = _until(
        lambda: live_data.run(lambda: TicketMessage.objects.filter(pk=message.pk, delivery_status="sent").first()),
        what="the delivery report",
    )
    assert entry.external_id == received[0].message["Message-ID"]
