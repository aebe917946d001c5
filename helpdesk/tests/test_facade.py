"""What other apps get from the helpdesk: tickets opened and messages added from a channel, delivery reports,
and every agent's public reply handed over (after commit) for delivery."""

from __future__ import annotations

import pytest

from helpdesk import facade
from helpdesk.contracts import InboundAttachment, OutgoingMessage, outgoing_message
from helpdesk.models import Ticket, TicketMessage
from helpdesk.services.tickets import message_add
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_channel_opens_a_ticket_for_an_unknown_sender_and_keeps_inline_images():
    received, refused = facade.ticket_open(
        subject="Broken",
        body="See the picture",
        sender_email="new.person@customer.test",
        sender_name="New Person",
        channel="email",
        attachments=[
            InboundAttachment("shot.png", "image/png", PNG, content_id="img1@x"),
            InboundAttachment("run.exe", "application/octet-stream", b"MZ" + b"\x00" * 64),
        ],
        cc=["Boss@Customer.test"],
        external_id="<a@b>",
    )

    ticket = Ticket.objects.get(pk=received.ticket_id)
    assert received.created_ticket and ticket.requester.name == "New Person" and ticket.cc == ["boss@customer.test"]
    opening = TicketMessage.objects.get(pk=received.message_id)
    assert [(a.filename, a.content_id) for a in opening.attachments.all()] == [("shot.png", "img1@x")]
    assert len(refused) == 1 and "run.exe" in refused[0]


def test_a_reply_on_a_closed_ticket_is_refused_so_the_caller_opens_a_new_one():
    ticket = TicketFactory(status=Ticket.Status.CLOSED)

    with pytest.raises(Exception, match="closed"):
        facade.message_receive(ticket_id=ticket.pk, body="Again", sender_email="", channel="email")


def test_an_agent_reply_is_handed_over_after_commit(agent, django_capture_on_commit_callbacks):
    ticket = TicketFactory()
    seen: list[OutgoingMessage] = []

    def receiver(sender, *, message, **kwargs):
        seen.append(message)

    outgoing_message.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            reply = message_add(ticket=ticket, actor=agent, body="**Fixed**")
            message_add(ticket=ticket, actor=agent, body="internal", kind=TicketMessage.Kind.NOTE)
        assert seen == []  # nothing before commit
        for callback in callbacks:
            callback()
    finally:
        outgoing_message.disconnect(receiver)

    [outgoing] = [m for m in seen if m.ticket_id == ticket.pk]
    assert (outgoing.kind, outgoing.message_id, outgoing.body) == ("reply", reply.pk, "**Fixed**")


def test_a_delivery_report_is_recorded_on_the_message(agent):
    reply = message_add(ticket=TicketFactory(), actor=agent, body="Hello")

    assert facade.message_delivery_set(message_id=reply.pk, status="bounced", detail="550 5.1.1 no such user")

    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_detail) == ("bounced", "550 5.1.1 no such user")
    with pytest.raises(ValueError):
        facade.message_delivery_set(message_id=reply.pk, status="lost")


@pytest.fixture
def agent(make_user):
    return make_user("agent")


# --- sms ---


def test_a_channel_names_the_sender_by_contact_when_it_has_no_email_address():
    from customers.tests.factories import ContactFactory

    texter = ContactFactory(email="", phone="+14155550123")
    received, _ = facade.ticket_open(subject="Router", body="Router blinks", sender_contact_id=texter.pk, channel="sms")
    reply, _ = facade.message_receive(
        ticket_id=received.ticket_id, body="Still", sender_contact_id=texter.pk, channel="sms"
    )

    assert Ticket.objects.get(pk=received.ticket_id).requester == texter
    assert TicketMessage.objects.get(pk=reply.message_id).author_contact == texter
