"""A public reply's To/CC/BCC: checked, lower-cased, saved on the message, handed to the inbox; new CCs stay."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from helpdesk.contracts import outgoing_message
from helpdesk.models import Ticket, TicketMessage
from helpdesk.services import tickets as services
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    received = []

    def receiver(sender, message, **kwargs):
        received.append(message)

    outgoing_message.connect(receiver, weak=False)
    yield received
    outgoing_message.disconnect(receiver)


def test_recipients_are_normalised_saved_and_handed_over(make_user, sent, django_capture_on_commit_callbacks):
    ticket = TicketFactory(channel=Ticket.Channel.EMAIL, cc=["boss@acme.test"])
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_add(
            ticket=ticket,
            actor=make_user(),
            body="Done.",
            to="Jane@Acme.test",
            cc="boss@acme.test, New@Acme.test; new@acme.test",
            bcc=["Audit@Acme.test"],
        )

    message.refresh_from_db()
    assert message.to == ["jane@acme.test"]
    assert message.cc == ["boss@acme.test", "new@acme.test"]
    assert message.bcc == ["audit@acme.test"]
    assert [(m.to, m.cc, m.bcc) for m in sent] == [
        (("jane@acme.test",), ("boss@acme.test", "new@acme.test"), ("audit@acme.test",))
    ]


def test_a_cc_added_on_a_reply_joins_the_tickets_ccs_and_a_removed_one_stays(make_user):
    ticket = TicketFactory(cc=["boss@acme.test"])

    services.message_add(ticket=ticket, actor=make_user(), body="Hi", cc=["new@acme.test"])

    ticket.refresh_from_db()
    assert ticket.cc == ["boss@acme.test", "new@acme.test"]


def test_bcc_never_joins_the_tickets_ccs(make_user):
    ticket = TicketFactory(cc=[])

    services.message_add(ticket=ticket, actor=make_user(), body="Hi", bcc=["quiet@acme.test"])

    ticket.refresh_from_db()
    assert ticket.cc == []


def test_a_bad_address_is_named_and_nothing_is_saved(make_user):
    ticket = TicketFactory()

    with pytest.raises(ValidationError) as error:
        services.message_add(ticket=ticket, actor=make_user(), body="Hi", to="ok@acme.test", cc="ok@acme.test, nope@")

    assert error.value.message_dict == {"cc": ["CC: “nope@” is not an email address."]}
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_more_than_twenty_addresses_are_refused(make_user):
    ticket = TicketFactory()
    many = [f"p{number}@acme.test" for number in range(21)]

    with pytest.raises(ValidationError, match="at most 20"):
        services.message_add(ticket=ticket, actor=make_user(), body="Hi", bcc=many)


def test_a_note_has_no_recipients_and_adds_no_cc(make_user):
    ticket = TicketFactory(cc=[])

    note = services.message_add(ticket=ticket, actor=make_user(), body="Hm", kind="note", cc=["x@acme.test"])

    ticket.refresh_from_db()
    assert (note.to, note.cc, note.bcc, ticket.cc) == ([], [], [], [])


@pytest.mark.parametrize("channel", [Ticket.Channel.CHAT, Ticket.Channel.SMS])
def test_a_chat_or_sms_reply_takes_no_copies(make_user, channel):
    ticket = TicketFactory(channel=channel)

    with pytest.raises(ValidationError) as error:
        services.message_add(ticket=ticket, actor=make_user(), body="Hi", cc=["x@acme.test"])
    assert "no addresses" in error.value.message_dict["cc"][0]

    reply = services.message_add(ticket=ticket, actor=make_user(), body="Hi")
    assert (reply.to, reply.cc, reply.bcc) == ([], [], [])
