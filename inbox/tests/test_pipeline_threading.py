"""Filing received mail: which ticket a message lands on, what is acknowledged, what is ignored, and that a bad or
interrupted message never stops the others (FAILED with a reason, retried after a crash, processed once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import AdminSite
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import Ticket, TicketMessage
from helpdesk.tests.factories import TicketFactory
from inbox.admin import InboundEmailAdmin
from inbox.models import InboundEmail
from inbox.reply_address import reply_address
from inbox.selectors.inbound import inbound_ids_for_ticket
from inbox.services import inbound as inbound_services
from inbox.services.inbound import MAX_ATTEMPTS, inbound_process, inbound_receive, inbound_retry_stuck
from inbox.tests.factories import InboundEmailFactory, MailboxFactory, raw_email
from inbox.tests.pipeline_fixtures import outgoing_kinds_fixture  # noqa: F401  (the `outgoing_kinds` fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def receive(django_capture_on_commit_callbacks):
    """Stores a message and runs what its commit queues (its processing), as a worker would."""

    def run(raw: bytes) -> InboundEmail:
        with django_capture_on_commit_callbacks(execute=True):
            inbound, _ = inbound_receive(raw=raw, source="imap")
        inbound.refresh_from_db()
        return inbound

    return run


def mail(*, message_id: str, headers: str = "", sender: str = "ann@customer.test", subject: str = "Hello",
         body: str = "The printer is on fire.", to: str = "support@workspace.test") -> bytes:  # fmt: skip
    return (
        f"From: Ann <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n{headers}"
        f"Date: Mon, 07 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.fixture(autouse=True)
def mailbox():
    return MailboxFactory(address="support@workspace.test")


# --- Threading ----------------------------------------------------------------------------------


def test_a_reply_to_the_signed_reply_address_lands_on_its_ticket(receive):
    ticket = TicketFactory()
    address = reply_address("support@workspace.test", ticket.pk)

    inbound = receive(mail(message_id="<r1@customer.test>", to=address, body="Thanks!"))

    assert (inbound.ticket_id, inbound.created_ticket) == (ticket.pk, False)
    assert TicketMessage.objects.get(pk=inbound.ticket_message_id).body == "Thanks!"


def test_a_forged_reply_address_opens_a_new_ticket_instead(receive):
    ticket = TicketFactory()
    forged = f"support+t{ticket.pk}-0000000000@workspace.test"

    inbound = receive(mail(message_id="<r2@customer.test>", to=forged))

    assert inbound.created_ticket and inbound.ticket_id != ticket.pk


def test_an_answer_to_an_earlier_received_mail_threads_by_in_reply_to(receive):
    first = receive(mail(message_id="<first@customer.test>"))
    headers = "In-Reply-To: <first@customer.test>\r\nReferences: <first@customer.test>\r\n"

    second = receive(mail(message_id="<second@customer.test>", headers=headers))

    assert second.ticket_id == first.ticket_id and not second.created_ticket


def test_an_answer_to_our_sent_mail_threads_by_references(receive):
    ticket = TicketFactory()
    TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.REPLY, body="Hi", external_id="<ours-1@x.test>")
    headers = "References: <unknown@elsewhere.test> <ours-1@x.test>\r\n"

    inbound = receive(mail(message_id="<third@customer.test>", headers=headers))

    assert inbound.ticket_id == ticket.pk


def test_a_subject_number_threads_only_for_the_tickets_own_people(receive):
    ticket = TicketFactory(cc=["colleague@customer.test"])
    requester = ticket.requester.email
    subject = f"Re: [#{ticket.pk}] Printer"

    own = receive(mail(message_id="<s1@c.test>", sender=requester, subject=subject))
    cc = receive(mail(message_id="<s2@c.test>", sender="colleague@customer.test", subject=subject))  # fmt: skip
    stranger = receive(mail(message_id="<s3@c.test>", sender="eve@evil.test", subject=subject))  # fmt: skip

    assert own.ticket_id == ticket.pk and cc.ticket_id == ticket.pk
    assert stranger.created_ticket and stranger.ticket_id != ticket.pk


def test_a_reply_onto_a_closed_ticket_opens_a_new_one(receive):
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    address = reply_address("support@workspace.test", ticket.pk)

    inbound = receive(mail(message_id="<late@customer.test>", to=address))

    assert inbound.created_ticket and inbound.ticket_id != ticket.pk
    assert f"Ticket #{ticket.pk} (reply address) is closed or gone" in inbound.reason


def test_an_unknown_senders_cc_joins_the_new_ticket_without_our_own_addresses(receive):
    headers = "Cc: Bob <bob@customer.test>, support@workspace.test, Support <support+t9-abc@workspace.test>\r\n"

    inbound = receive(mail(message_id="<cc@customer.test>", headers=headers))

    ticket = Ticket.objects.select_related("requester").get(pk=inbound.ticket_id)
    assert ticket.cc == ["bob@customer.test"] and ticket.requester.email == "ann@customer.test"


# --- Acknowledgements, auto-replies, loops ------------------------------------------------------


def test_a_new_ticket_by_email_is_acknowledged_once(receive, outgoing_kinds):
    inbound = receive(mail(message_id="<ack@customer.test>"))

    assert outgoing_kinds == [("acknowledgement", inbound.ticket_id)]


@pytest.mark.parametrize(
    "header",
    ["Auto-Submitted: auto-replied", "Precedence: bulk", "X-Autoreply: yes", "X-Auto-Response-Suppress: OOF, AutoReply",
     "List-Id: <users.lists.example.org>"],
)  # fmt: skip
def test_machine_written_mail_is_filed_without_acknowledgement(header, receive, outgoing_kinds):
    inbound = receive(mail(message_id="<auto@customer.test>", headers=f"{header}\r\n"))

    assert inbound.status == InboundEmail.Status.IMPORTED and inbound.created_ticket
    assert outgoing_kinds == []


def test_auto_submitted_no_is_a_person(receive, outgoing_kinds):
    inbound = receive(mail(message_id="<p@c.test>", headers="Auto-Submitted: no\r\n"))

    assert outgoing_kinds == [("acknowledgement", inbound.ticket_id)]


def test_our_own_message_coming_back_is_ignored(receive):
    ticket = TicketFactory()
    TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.REPLY, body="Hi", external_id="<ours-2@x.test>")

    inbound = receive(mail(message_id="<ours-2@x.test>", sender="someone@else.test"))

    assert inbound.status == InboundEmail.Status.IGNORED and "sent from here" in inbound.reason
    assert Ticket.objects.count() == 1


def test_a_bounce_about_no_message_of_ours_opens_no_ticket(receive):
    notice = "Message-ID: <never-sent@x.test>\r\n550 5.1.1 User unknown"
    subject = "Undelivered Mail Returned to Sender"
    raw = mail(message_id="<dsn@mx.test>", sender="MAILER-DAEMON@mx.test", subject=subject, body=notice)

    inbound = receive(raw)

    assert inbound.status == InboundEmail.Status.BOUNCE and "no message sent from here" in inbound.reason
    assert Ticket.objects.count() == 0


def test_a_refused_attachment_is_noted_in_the_message_and_the_record(receive):
    raw = (
        b"From: ann@customer.test\r\nTo: support@workspace.test\r\nSubject: Tool\r\nMessage-ID: <exe@c.test>\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the tool.\r\n'
        b'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="tool.exe"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n"
    )

    inbound = receive(raw)

    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert "See the tool." in ticket.original_description and "[File not kept: tool.exe" in ticket.original_description
    assert "tool.exe" in inbound.reason and inbound.status == InboundEmail.Status.IMPORTED


def test_more_files_than_a_message_may_carry_keeps_the_first_and_says_so(receive, settings):
    settings.HELPDESK_ATTACHMENTS_PER_MESSAGE = 2
    parts = b"".join(
        b'--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="f%d.txt"\r\n\r\nfile %d\r\n'
        % (n, n)
        for n in range(3)
    )
    raw = (
        b"From: ann@customer.test\r\nTo: support@workspace.test\r\nSubject: Logs\r\nMessage-ID: <many@c.test>\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nLogs.\r\n'
        + parts
        + b"--b--\r\n"
    )

    inbound = receive(raw)

    assert inbound.status == InboundEmail.Status.IMPORTED and "f2.txt: at most 2 files" in inbound.reason


# --- Failures, crashes, retries -----------------------------------------------------------------


def test_a_message_that_cannot_be_filed_is_failed_with_a_reason_and_kept(receive, monkeypatch):
    from inbox.services import pipeline

    def explode(*args, **kwargs):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(pipeline, "thread_find", explode)

    inbound = receive(raw_email(message_id="<boom@c.test>"))

    assert inbound.status == InboundEmail.Status.FAILED
    assert inbound.reason == "Could not be processed (RuntimeError): parser exploded"
    assert (inbound.sender, inbound.subject, inbound.ticket_id) == ("ann@customer.test", "Hello", None)
    assert Ticket.objects.count() == 0 and inbound.raw.size > 0


def test_a_failure_after_the_ticket_was_opened_leaves_no_half_filed_ticket(receive, monkeypatch):
    from inbox.services import pipeline

    opened = pipeline.helpdesk.ticket_open

    def open_then_fail(**values):
        opened(**values)
        raise ValueError("disk full")

    monkeypatch.setattr(pipeline.helpdesk, "ticket_open", open_then_fail)

    inbound = receive(raw_email(message_id="<half@c.test>"))

    assert inbound.status == InboundEmail.Status.FAILED and "disk full" in inbound.reason
    assert Ticket.objects.count() == 0 and inbound.ticket_id is None


def test_processing_twice_files_once(receive):
    inbound = receive(raw_email(message_id="<twice@c.test>"))

    again = inbound_process(inbound.pk)

    assert again.status == InboundEmail.Status.IMPORTED and again.attempts == 1
    assert Ticket.objects.count() == 1


def test_a_message_left_behind_by_a_dead_worker_is_picked_up_again(django_capture_on_commit_callbacks):
    # The worker took the message (attempt counted and committed), then died before filing it.
    left = InboundEmailFactory(attempts=1, received=timezone.now() - timedelta(minutes=10))
    fresh = InboundEmailFactory()  # just stored: its own task is still on its way

    with django_capture_on_commit_callbacks(execute=True):
        queued = inbound_retry_stuck()

    left.refresh_from_db()
    fresh.refresh_from_db()
    assert queued == 1
    assert left.status == InboundEmail.Status.IMPORTED and left.attempts == 2 and left.ticket_id
    assert fresh.status == InboundEmail.Status.RECEIVED


def test_a_message_that_keeps_killing_the_worker_is_failed_after_the_last_attempt(django_capture_on_commit_callbacks):
    poison = InboundEmailFactory(attempts=MAX_ATTEMPTS, received=timezone.now() - timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=True):
        queued = inbound_retry_stuck()

    poison.refresh_from_db()
    assert queued == 0 and poison.status == InboundEmail.Status.FAILED
    assert poison.reason == f"Processing stopped after {MAX_ATTEMPTS} attempts that did not finish."


def test_the_attempt_is_counted_before_filing_so_a_crash_still_counts(monkeypatch):
    inbound = InboundEmailFactory()

    def crash(inbound_id):
        raise SystemExit("worker killed")

    monkeypatch.setattr(inbound_services, "_file", crash)
    with pytest.raises(SystemExit):
        inbound_process(inbound.pk)

    inbound.refresh_from_db()
    assert inbound.attempts == 1 and inbound.status == InboundEmail.Status.RECEIVED


def test_an_admin_processes_a_failed_message_again(django_capture_on_commit_callbacks):
    failed = InboundEmailFactory(status=InboundEmail.Status.FAILED, reason="old", attempts=5)
    imported = InboundEmailFactory(status=InboundEmail.Status.IMPORTED, ticket_id=1)
    model_admin = InboundEmailAdmin(InboundEmail, AdminSite())
    request = RequestFactory().post("/")
    model_admin.message_user = lambda *args, **kwargs: None

    with django_capture_on_commit_callbacks(execute=True):
        model_admin.process_again(request, InboundEmail.objects.filter(pk__in=[failed.pk, imported.pk]))

    failed.refresh_from_db()
    imported.refresh_from_db()
    assert failed.status == InboundEmail.Status.IMPORTED and failed.attempts == 1 and failed.ticket_id
    assert imported.status == InboundEmail.Status.IMPORTED and imported.ticket_id == 1


# --- The original .eml --------------------------------------------------------------------------


def test_agents_download_the_original_eml(client, login):
    inbound = InboundEmailFactory()
    url = reverse("inbox:inbound_raw", args=[inbound.pk])

    anonymous = client.get(url)
    login("viewer")
    response = client.get(url)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert response.status_code == 200 and response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="message-{inbound.pk}.eml"'
    assert b"".join(response.streaming_content) == raw_email(message_id=inbound.message_id)
    assert client.get(reverse("inbox:inbound_raw", args=[987654])).status_code == 404


def test_the_thread_finds_the_original_of_each_received_message(receive):
    opening = receive(mail(message_id="<open@c.test>"))
    headers = "In-Reply-To: <open@c.test>\r\n"
    answer = receive(mail(message_id="<answer@c.test>", headers=headers, body="More."))

    found = inbound_ids_for_ticket(ticket_id=opening.ticket_id)

    assert found == {None: opening.pk, answer.ticket_message_id: answer.pk}
