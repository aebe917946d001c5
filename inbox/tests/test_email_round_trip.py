"""The whole email loop over real sockets: a customer's email reaches the support mailbox (dovecot, IMAP) and
becomes a ticket; the agent's reply leaves through the mailbox's SMTP server (aiosmtpd) threaded to it; the
customer answers that email and the answer lands on the same ticket."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from helpdesk.models import Ticket, TicketMessage
from helpdesk.services import tickets as ticket_services
from inbox.reply_address import ticket_from_address
from inbox.tasks.mailboxes import mailbox_poll_task
from inbox.tests.factories import MailboxFactory

pytestmark = pytest.mark.django_db

SMTP_PASSWORD = "s3cret-smtp"


@pytest.fixture
def support(imap_account, smtp_server):
    """help@acme.test: read over IMAP (TLS), sent through the workspace's own SMTP server."""
    mailbox = MailboxFactory(
        address="help@acme.test",
        display_name="Acme Support",
        is_default=True,
        settings={
            "host": "127.0.0.1",
            "port": imap_account.server.port,
            "security": "ssl",
            "username": imap_account.username,
            "folder": "INBOX",
            "after_import": "seen",
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "smtp_username": "support",
        },
    )
    mailbox.secrets_set({"password": imap_account.password, "smtp_password": SMTP_PASSWORD})
    mailbox.save()
    return mailbox


def customer_email(*, subject: str, body: str, to: str = "help@acme.test", **headers: str) -> tuple[bytes, str]:
    message = EmailMessage()
    message["From"] = "Ann Customer <ann@customer.test>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id = make_msgid(domain="customer.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes(), message_id


def test_an_email_becomes_a_ticket_the_reply_arrives_threaded_and_the_answer_lands_on_the_same_ticket(
    support, imap_account, smtp_server, make_user, django_capture_on_commit_callbacks
):
    raw, first_id = customer_email(subject="Printer on fire", body="The printer on floor 3 smokes.")
    imap_account.deliver(raw)
    with django_capture_on_commit_callbacks(execute=True):
        mailbox_poll_task(support.pk)
    ticket = Ticket.objects.get(subject="Printer on fire")
    assert ticket.channel == "email" and ticket.requester.email == "ann@customer.test"
    acknowledgement = smtp_server.received.pop(0).message  # the request is acknowledged, in its thread
    assert acknowledgement["In-Reply-To"] == first_id and acknowledgement["Auto-Submitted"] == "auto-replied"

    agent = make_user("agent", name="Ada Lovelace")
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_services.message_add(ticket=ticket, actor=agent, body="Unplug it, **now**.")

    [sent] = smtp_server.received
    email = sent.message
    assert sent.rcpt_tos == ["ann@customer.test"] and "Ada Lovelace" in email["From"]
    # Chained to the thread so far: the customer's email, then our acknowledgement.
    assert email["References"].split() == [first_id, acknowledgement["Message-ID"]]
    assert email["In-Reply-To"] == acknowledgement["Message-ID"]
    assert ticket_from_address(email["Reply-To"]) == ticket.pk
    assert "Unplug it" in email.get_body(("plain",)).get_content()
    assert "<strong>now</strong>" in email.get_body(("html",)).get_content()
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and reply.external_id == email["Message-ID"]

    answer, answer_id = customer_email(
        subject=f"Re: {email['Subject']}",
        body=f"Done, thanks!\n\nOn Monday Ada wrote:\n> {email.get_body(('plain',)).get_content()[:40]}",
        to=email["Reply-To"],
        In_Reply_To=email["Message-ID"],
        References=f"{first_id} {email['Message-ID']}",
    )
    imap_account.deliver(answer)
    with django_capture_on_commit_callbacks(execute=True):
        mailbox_poll_task(support.pk)

    assert Ticket.objects.count() == 1
    landed = TicketMessage.objects.get(ticket=ticket, external_id=answer_id)
    assert landed.from_customer and landed.body.strip() == "Done, thanks!"  # the quoted reply is stripped
    assert not smtp_server.received[1:]  # a customer's answer is not acknowledged again
