"""The SMTP server behind the forwarding addresses (inbox/smtp_receiver.py), over a real socket with smtplib:
who it accepts, what it answers, and that an accepted message is stored in its workspace and becomes a ticket."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings

from helpdesk.models import Ticket
from inbox.models import InboundEmail, Mailbox
from inbox.selectors.mailboxes import forwarding_address_parse, mailbox_forwarding_address
from inbox.smtp_receiver import UNKNOWN, ForwardingHandler, Target, smtp_receiver_start

from .factories import MailboxFactory, raw_email
from .smtp_server import free_port

TARGET = Target(schema_name="t_acme", mailbox_id=7)


class Recorder:
    """check/store stand-ins: every address that starts with "known" is accepted for TARGET."""

    def __init__(self, *, fail: bool = False) -> None:
        self.stored: list[tuple[Target, bytes, str, str]] = []
        self.fail = fail

    def check(self, address: str) -> str | Target:
        return TARGET if address.startswith("known") else UNKNOWN

    def store(self, target: Target, raw: bytes, mail_from: str, peer: str) -> None:
        if self.fail:
            raise RuntimeError("database away")
        self.stored.append((target, raw, mail_from, peer))


def _serve(recorder: Recorder) -> tuple[int, object]:
    port = free_port()
    handler = ForwardingHandler(check=recorder.check, store=recorder.store)
    return port, smtp_receiver_start(host="127.0.0.1", port=port, handler=handler)


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port, controller = _serve(recorder)
    yield recorder, port
    controller.stop()


def test_forwarding_address_names_the_workspace_and_the_mailbox():
    domain = settings.INBOX_FORWARD_DOMAIN
    assert forwarding_address_parse(f"t_acme-12@{domain.upper()}") == ("t_acme", 12)
    assert forwarding_address_parse(f"<t_my-shop-3@{domain}>") == ("t_my-shop", 3)
    assert forwarding_address_parse("t_acme-12@example.com") is None
    assert forwarding_address_parse(f"t_acme@{domain}") is None
    assert forwarding_address_parse(f"t_acme-x1@{domain}") is None


def test_an_unknown_recipient_is_refused_before_the_message_is_sent(recorder):
    records, port = recorder
    with smtplib.SMTP("127.0.0.1", port) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("ann@customer.test", ["nobody@inbound.test"], raw_email())
    code, message = refused.value.recipients["nobody@inbound.test"]
    assert code == 550 and b"forwarding address" in message
    assert records.stored == []


def test_an_accepted_message_is_stored_once_per_mailbox_with_its_envelope(recorder):
    records, port = recorder
    with smtplib.SMTP("127.0.0.1", port) as client:
        refused = client.sendmail("ann@customer.test", ["known-a@x.test", "known-b@x.test"], raw_email())
    assert refused == {}
    assert len(records.stored) == 1  # both recipients name the same mailbox
    target, raw, mail_from, peer = records.stored[0]
    assert (target, mail_from, peer) == (TARGET, "ann@customer.test", "127.0.0.1")
    assert b"The printer is on fire." in raw


def test_a_message_that_cannot_be_stored_is_answered_451_so_the_sender_retries():
    recorder = Recorder(fail=True)
    port, controller = _serve(recorder)
    try:
        with smtplib.SMTP("127.0.0.1", port) as client, pytest.raises(smtplib.SMTPDataError) as failed:
            client.sendmail("ann@customer.test", ["known@x.test"], raw_email())
    finally:
        controller.stop()
    assert failed.value.smtp_code == 451


def test_a_message_over_the_size_limit_is_refused_with_552(settings):
    settings.INBOX_MAX_MESSAGE_BYTES = 2_000
    recorder = Recorder()
    port, controller = _serve(recorder)
    try:
        with smtplib.SMTP("127.0.0.1", port) as client, pytest.raises(smtplib.SMTPException) as refused:
            client.sendmail("ann@customer.test", ["known@x.test"], raw_email(body="x" * 5_000))
    finally:
        controller.stop()
    assert getattr(refused.value, "smtp_code", None) == 552
    assert recorder.stored == []


# --- The real thing: a forwarding mailbox in the test workspace ---------------------------------------------------


@pytest.mark.xdist_group("live")
def test_mail_to_the_forwarding_address_becomes_a_ticket_in_that_workspace(live_data, django_db_blocker):
    forward = live_data.run(lambda: MailboxFactory(kind=Mailbox.Kind.FORWARD, settings={}))
    imap = live_data.run(lambda: MailboxFactory(kind=Mailbox.Kind.IMAP))
    live_data.add_cleanup(lambda: Mailbox.objects.filter(pk__in=[forward.pk, imap.pk]).delete())
    address, imap_address = live_data.run(lambda: [mailbox_forwarding_address(m) for m in (forward, imap)])
    subject = f"Forwarded {uuid.uuid4().hex[:8]}"
    message = raw_email(message_id=f"<{uuid.uuid4().hex}@customer.test>", subject=subject)

    port = free_port()
    controller = smtp_receiver_start(host="127.0.0.1", port=port)
    try:
        with django_db_blocker.unblock(), smtplib.SMTP("127.0.0.1", port) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused):  # an IMAP mailbox has no forwarding address
                client.sendmail("ann@customer.test", [imap_address], message)
            client.sendmail("ann@customer.test", [address], message)
            client.sendmail("ann@customer.test", [address], message)  # the same message again: stored once
    finally:
        controller.stop()

    stored = live_data.run(lambda: list(InboundEmail.objects.filter(mailbox_id=forward.pk)))
    assert [(record.source, record.status) for record in stored] == [("smtp", InboundEmail.Status.IMPORTED)]
    raw = live_data.run(lambda: stored[0].raw.open("rb").read())
    assert raw.startswith(b"Return-Path: <ann@customer.test>\r\nReceived: from 127.0.0.1 by ")
    requesters = live_data.run(lambda: list(Ticket.objects.filter(subject=subject).values_list("requester__email")))
    assert requesters == [("ann@customer.test",)]


# --- SMTPUTF8 (RFC 6531) ---------------------------------------------------------------------------------------------

UTF8_MESSAGE = (
    "From: Jürgen Groß <juergen@bücher.example>\r\nTo: support@workspace.test\r\nSubject: Drucker brennt – schnell!\r\n"
    "Message-ID: <{id}@bücher.example>\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\nBitte helfen Sie.\r\n"
)


def test_smtputf8_is_offered_and_an_internationalised_envelope_is_taken_as_it_came(recorder):
    records, port = recorder
    raw = UTF8_MESSAGE.format(id="u1", extra="").encode()
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        assert client.has_extn("smtputf8")
        client.sendmail("用户@例子.广告", ["known@x.test"], raw, mail_options=["SMTPUTF8"])

    (_target, stored, mail_from, _peer) = records.stored[0]
    assert mail_from == "用户@例子.广告" and stored == raw


@pytest.mark.xdist_group("live")
def test_utf8_mail_over_smtputf8_becomes_a_ticket_and_its_reply_threads_onto_it(live_data, django_db_blocker):
    forward = live_data.run(lambda: MailboxFactory(kind=Mailbox.Kind.FORWARD, settings={}))
    live_data.add_cleanup(lambda: Mailbox.objects.filter(pk=forward.pk).delete())
    address = live_data.run(lambda: mailbox_forwarding_address(forward))
    tag = uuid.uuid4().hex[:8]
    first = UTF8_MESSAGE.format(id=f"{tag}-1", extra="").encode()
    answer = UTF8_MESSAGE.format(id=f"{tag}-2", extra=f"In-Reply-To: <{tag}-1@bücher.example>\r\n")

    port = free_port()
    controller = smtp_receiver_start(host="127.0.0.1", port=port)
    try:
        with django_db_blocker.unblock(), smtplib.SMTP("127.0.0.1", port) as client:
            for raw in (first, answer.replace("Bitte helfen", "Danke,").encode()):
                client.sendmail("jürgen@bücher.example", [address], raw, mail_options=["SMTPUTF8"])
    finally:
        controller.stop()

    stored = live_data.run(lambda: list(InboundEmail.objects.filter(mailbox_id=forward.pk).order_by("pk")))
    assert [record.status for record in stored] == [InboundEmail.Status.IMPORTED] * 2
    assert stored[0].ticket_id == stored[1].ticket_id and stored[1].created_ticket is False
    raw = live_data.run(lambda: stored[0].raw.open("rb").read())
    assert raw.startswith("Return-Path: <jürgen@bücher.example>\r\n".encode())
    ticket = live_data.run(lambda: Ticket.objects.select_related("requester").get(pk=stored[0].ticket_id))
    assert (ticket.subject, ticket.requester.email) == ("Drucker brennt – schnell!", "juergen@bücher.example")
