"""Agents' replies and the helpdesk's own emails reach the customer by SMTP (a real server on a socket), threaded,
with both parts and attachments; deferrals are retried, refusals shown on the message with the server's answer."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from helpdesk.contracts import AttachmentRef, OutgoingMessage
from helpdesk.models import Ticket
from helpdesk.services import tickets as ticket_services
from helpdesk.services.csat import survey_send
from helpdesk.services.help_center import help_request_submit, request_acknowledge
from helpdesk.tests.factories import TicketFactory
from inbox.models import OutboundEmail
from inbox.reply_address import ticket_from_address
from inbox.services.outbound_email import (
    outbound_email_queue,
    outbound_email_retry_due,
    outbound_email_send,
    ticket_for_sent_message_ids,
)
from inbox.tests.factories import InboundEmailFactory, MailboxFactory

pytestmark = pytest.mark.django_db

SMTP_PASSWORD = "s3cret-smtp"
# The envelope sender of each email is the sender's address tagged with the email's own signed id (VERP).
VERP = re.compile(r"(?P<local>[^+@]+)\+b\d+-[0-9a-f]{10}@(?P<domain>.+)")


def untagged(envelope_sender: str) -> str:
    match = VERP.fullmatch(envelope_sender)
    assert match, f"{envelope_sender} carries no bounce tag"
    return f"{match['local']}@{match['domain']}"


def workspace_mailbox(smtp_server, **fields):
    options = {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port, "smtp_security": "none"}
    options |= {"smtp_username": "support"} | fields.pop("settings", {})
    secrets = {"smtp_password": SMTP_PASSWORD} | fields.pop("secrets", {})
    fields = {"display_name": "Acme Support", "address": "help@acme.test", "is_default": True} | fields
    mailbox = MailboxFactory(settings=options, **fields)
    mailbox.secrets_set(secrets)
    mailbox.save()
    return mailbox


def reply(ticket, agent, capture, body="Hello **Ann**, see [the guide](https://docs.acme.test/printer).", **kwargs):
    with capture(execute=True):
        return ticket_services.message_add(ticket=ticket, actor=agent, body=body, **kwargs)


@pytest.fixture
def ticket():
    return TicketFactory(subject="Printer on fire", requester__email="ann@customer.test", channel=Ticket.Channel.EMAIL)


@pytest.fixture
def agent(make_user):
    return make_user("agent", name="Ada Lovelace")


def test_a_reply_arrives_with_both_parts_threading_reply_address_attachment_and_the_agents_name(
    smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    mailbox = workspace_mailbox(smtp_server)
    InboundEmailFactory(mailbox=mailbox, ticket_id=ticket.pk, message_id="<first@customer.test>")
    log = SimpleUploadedFile("log.txt", b"error 42\n", content_type="text/plain")

    message = reply(ticket, agent, django_capture_on_commit_callbacks, attachments=[log])

    (received,) = smtp_server.received
    email = received.message
    assert received.login == "support" and untagged(received.mail_from) == "help@acme.test"
    assert received.rcpt_tos == ["ann@customer.test"]
    assert email["From"].addresses[0].display_name == "Ada Lovelace via Acme Support"
    assert email["From"].addresses[0].addr_spec == "help@acme.test"
    assert email["Subject"] == f"[#{ticket.pk}] Printer on fire"
    assert email["In-Reply-To"] == "<first@customer.test>" and "<first@customer.test>" in email["References"]
    assert ticket_from_address(email["Reply-To"].addresses[0].addr_spec) == ticket.pk
    assert email["Auto-Submitted"] is None
    assert "Hello **Ann**" in email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "<strong>Ann</strong>" in html and 'href="https://docs.acme.test/printer"' in html
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_filename() == "log.txt" and attachment.get_content().strip() == "error 42"

    message.refresh_from_db()
    outbound = OutboundEmail.objects.get()
    assert message.external_id == email["Message-ID"] == outbound.message_id
    assert email["Message-ID"].endswith("@acme.test>")
    assert message.delivery_status == "sent" and message.delivery_detail.startswith("250 2.0.0 Ok")
    assert (outbound.status, outbound.attempts, outbound.mailbox) == ("sent", 1, mailbox)


def test_each_reply_chains_to_the_thread_so_far(smtp_server, ticket, agent, django_capture_on_commit_callbacks):
    mailbox = workspace_mailbox(smtp_server)
    InboundEmailFactory(mailbox=mailbox, ticket_id=ticket.pk, message_id="<first@customer.test>")
    reply(ticket, agent, django_capture_on_commit_callbacks, body="First answer")
    reply(ticket, agent, django_capture_on_commit_callbacks, body="Second answer")

    first, second = (received.message for received in smtp_server.received)
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"].split() == ["<first@customer.test>", first["Message-ID"]]
    assert first["Message-ID"] != second["Message-ID"]


def test_a_deferral_4xx_is_retried_with_backoff_and_then_sent(
    smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    workspace_mailbox(smtp_server)
    smtp_server.answer_next("451 4.7.1 Greylisted, please try again later")

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    outbound = OutboundEmail.objects.get()
    assert message.delivery_status == "deferred" and "451 4.7.1 Greylisted" in message.delivery_detail
    assert outbound.status == "deferred" and not smtp_server.received
    assert timedelta(seconds=50) < outbound.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    assert outbound_email_retry_due() == 0  # not due yet
    assert outbound_email_send(outbound.pk) == "deferred"  # a stray task before its time changes nothing
    assert OutboundEmail.objects.get().attempts == 1

    OutboundEmail.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_email_retry_due() == 1

    (received,) = smtp_server.received
    message.refresh_from_db()
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts) == ("sent", 2)
    assert message.delivery_status == "sent" and received.message["Message-ID"] == outbound.message_id


def test_a_refusal_5xx_fails_and_the_ticket_page_shows_the_servers_answer(
    client, smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    workspace_mailbox(smtp_server)
    smtp_server.answer_next("550 5.1.1 <ann@customer.test>: Recipient address rejected")

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.delivery_status == "failed" and "550 5.1.1" in message.delivery_detail
    assert OutboundEmail.objects.get().next_attempt_at is None
    assert outbound_email_retry_due() == 0  # never retried
    client.force_login(agent)
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert 'data-status="failed"' in page and "Delivery failed" in page
    assert "550 5.1.1 &lt;ann@customer.test&gt;: Recipient address rejected" in page


def test_a_deferral_older_than_a_day_is_given_up(smtp_server, ticket, agent, django_capture_on_commit_callbacks):
    workspace_mailbox(smtp_server)
    smtp_server.answer_next("421 4.3.2 Service shutting down", "452 4.2.2 Mailbox full")
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    OutboundEmail.objects.update(created=timezone.now() - timedelta(hours=25), next_attempt_at=timezone.now())

    assert outbound_email_send(OutboundEmail.objects.get().pk) == "failed"

    message.refresh_from_db()
    assert message.delivery_status == "failed" and "452 4.2.2 Mailbox full (gave up after 2 attempts)" in (
        message.delivery_detail
    )


def test_a_server_that_cannot_be_reached_defers(ticket, agent, django_capture_on_commit_callbacks):
    from inbox.tests.smtp_server import free_port

    mailbox = MailboxFactory(is_default=True, settings={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    mailbox.settings["smtp_security"] = "none"
    mailbox.save()

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.delivery_status == "deferred" and "Could not reach 127.0.0.1" in message.delivery_detail


def test_a_workspace_smtp_host_inside_the_network_is_refused_by_the_egress_guard(
    ticket, agent, django_capture_on_commit_callbacks
):
    MailboxFactory(is_default=True, settings={"smtp_host": "169.254.169.254", "smtp_port": 25})

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.delivery_status == "failed" and "cloud metadata service" in message.delivery_detail


def test_without_a_mailbox_the_platform_smtp_server_sends_from_the_platform_address(
    settings, smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = smtp_server.host, smtp_server.port, False
    settings.DEFAULT_FROM_EMAIL = "Switchboard <no-reply@switchboard.test>"

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    (received,) = smtp_server.received
    email = received.message
    assert received.login == "" and untagged(received.mail_from) == "no-reply@switchboard.test"
    assert email["From"].addresses[0].display_name == "Ada Lovelace via Alpha Testing Ltd"
    assert email["Reply-To"].addresses[0].addr_spec.startswith(f"no-reply+t{ticket.pk}-")
    message.refresh_from_db()
    assert message.delivery_status == "sent" and message.delivery_detail.startswith("250 ")


def test_a_workspace_mailbox_is_preferred_to_the_platform(
    settings, smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # the platform's server is never asked
    workspace_mailbox(smtp_server)

    reply(ticket, agent, django_capture_on_commit_callbacks)

    (received,) = smtp_server.received
    assert received.login == "support" and untagged(received.mail_from) == "help@acme.test"


def test_the_platform_falls_back_to_djangos_email_backend(ticket, agent, django_capture_on_commit_callbacks):
    message = reply(ticket, agent, django_capture_on_commit_callbacks, body="Try *this*.")

    (sent,) = mail.outbox
    assert sent.to == ["ann@customer.test"] and sent.subject == f"[#{ticket.pk}] Printer on fire"
    assert sent.body.strip() == "Try *this*." and "<em>this</em>" in sent.message().get_body(("html",)).get_content()
    message.refresh_from_db()
    assert message.delivery_status == "sent"


def test_a_dkim_signature_verifies(smtp_server, ticket, agent, django_capture_on_commit_callbacks):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    workspace_mailbox(smtp_server, settings={"dkim_selector": "sb2026"}, secrets={"dkim_private_key": private})

    reply(ticket, agent, django_capture_on_commit_callbacks)

    (received,) = smtp_server.received
    records = {"sb2026._domainkey.acme.test.": b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)}
    assert b"d=acme.test" in received.content and b"s=sb2026" in received.content
    assert dkim.verify(received.content, dnsfunc=lambda name, timeout=5: records.get(name.decode()))
    tampered = received.content.replace(b"Printer on fire", b"Printer on ice")
    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: records.get(name.decode()))


def test_the_acknowledgement_goes_out_through_the_mailbox_as_an_automatic_email(
    smtp_server, django_capture_on_commit_callbacks
):
    workspace_mailbox(smtp_server)

    with django_capture_on_commit_callbacks(execute=True):
        ticket = help_request_submit(name="Ann", email="ann@customer.test", subject="Invoice", description="Where?")

    (received,) = smtp_server.received
    email = received.message
    assert email["Auto-Submitted"] == "auto-replied" and email["X-Auto-Response-Suppress"] == "All"
    assert f"[#{ticket.pk}]" in email["Subject"] and "Invoice" in email["Subject"]
    assert email["From"].addresses[0].display_name == "Acme Support"
    assert "/help/requests/" in email.get_body(("plain",)).get_content()
    assert "/help/requests/" in email.get_body(("html",)).get_content()
    outbound = OutboundEmail.objects.get()
    assert (outbound.kind, outbound.ticket_message_id, outbound.status) == ("acknowledgement", None, "sent")
    # The customer's answer to it threads by its Message-ID, though it has no thread entry.
    assert ticket_for_sent_message_ids(["<unknown@x.test>", email["Message-ID"]]) == ticket.pk
    assert ticket_for_sent_message_ids(["<unknown@x.test>"]) is None


def test_an_automatic_answer_is_marked_auto_submitted(smtp_server, ticket, django_capture_on_commit_callbacks):
    workspace_mailbox(smtp_server)

    message = reply(ticket, None, django_capture_on_commit_callbacks, body="Here is how: restart it.")

    (received,) = smtp_server.received
    assert received.message["Auto-Submitted"] == "auto-replied"
    assert received.message["From"].addresses[0].display_name == "Acme Support"
    assert OutboundEmail.objects.get().kind == "auto_response"
    message.refresh_from_db()
    assert message.delivery_status == "sent"


def test_a_requester_without_an_address_gets_no_email_and_the_reply_says_so(agent, django_capture_on_commit_callbacks):
    ticket = TicketFactory(requester__email="")

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.delivery_status == "failed" and "no email address" in message.delivery_detail
    assert not OutboundEmail.objects.exists()


def test_the_tickets_ccs_get_a_reply_addressed_to_nobody_in_particular(
    smtp_server, agent, django_capture_on_commit_callbacks
):
    workspace_mailbox(smtp_server)
    ticket = TicketFactory(requester__email="ann@customer.test", cc=["carol@customer.test"])

    reply(ticket, agent, django_capture_on_commit_callbacks)

    (received,) = smtp_server.received
    assert received.rcpt_tos == ["ann@customer.test", "carol@customer.test"]
    assert received.message["To"] == "ann@customer.test" and received.message["Cc"] == "carol@customer.test"


@pytest.mark.parametrize("kind", ["acknowledgement", "csat"])
def test_the_acknowledgement_and_the_survey_reach_the_tickets_ccs_too(
    kind, smtp_server, django_capture_on_commit_callbacks
):
    workspace_mailbox(smtp_server)
    ticket = TicketFactory(requester__email="ann@customer.test", cc=["carol@customer.test", "ANN@customer.test"])

    with django_capture_on_commit_callbacks(execute=True):
        if kind == "acknowledgement":
            request_acknowledge(ticket)
        else:
            ticket.status = Ticket.Status.SOLVED
            survey_send(ticket=ticket)

    (received,) = smtp_server.received
    assert received.rcpt_tos == ["ann@customer.test", "carol@customer.test"]
    assert received.message["To"] == "ann@customer.test" and received.message["Cc"] == "carol@customer.test"
    assert OutboundEmail.objects.get().kind == kind


def test_chosen_recipients_get_it_and_bcc_is_in_no_header(smtp_server, ticket, django_capture_on_commit_callbacks):
    workspace_mailbox(smtp_server)
    outgoing = OutgoingMessage(
        ticket_id=ticket.pk,
        kind="reply",
        channel=ticket.channel,
        subject=ticket.subject,
        body="For you all",
        author_name="Ada Lovelace",
        to=("Ann <ann@customer.test>",),
        cc=("bob@customer.test",),
        bcc=("boss@acme.test",),
    )

    with django_capture_on_commit_callbacks(execute=True):
        outbound_email_queue(outgoing)

    (received,) = smtp_server.received
    assert received.rcpt_tos == ["ann@customer.test", "bob@customer.test", "boss@acme.test"]
    assert received.message["Cc"] == "bob@customer.test" and b"boss@acme.test" not in received.content


def test_a_refused_login_fails_without_retrying(smtp_server, ticket, agent, django_capture_on_commit_callbacks):
    workspace_mailbox(smtp_server, secrets={"smtp_password": "wrong"})

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.delivery_status == "failed" and "refused the login: 535" in message.delivery_detail
    assert not smtp_server.received


def test_a_bounce_about_a_sent_reply_marks_the_email_and_the_message_bounced(
    smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    from inbox.services.bounces import bounce_record

    workspace_mailbox(smtp_server)
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    sent_as = OutboundEmail.objects.get().message_id

    assert bounce_record(original_message_id=sent_as, diagnostic="550 5.1.1 user unknown")

    message.refresh_from_db()
    assert message.delivery_status == "bounced" and message.delivery_detail == "550 5.1.1 user unknown"
    assert OutboundEmail.objects.get().status == "bounced"
    assert outbound_email_send(OutboundEmail.objects.get().pk) == "bounced"  # never sent again


def test_a_mailbox_kind_with_its_own_transport_sends_through_it(ticket, agent, django_capture_on_commit_callbacks):
    from inbox.services import transports

    sent = []

    def graph_send(mailbox, raw, envelope_from, recipients):
        sent.append((mailbox.kind, envelope_from, recipients, raw))
        return "202 Accepted by Graph"

    MailboxFactory(kind="microsoft365", address="help@contoso.test", is_default=True, settings={})
    transports.transport("microsoft365")(graph_send)
    try:
        message = reply(ticket, agent, django_capture_on_commit_callbacks)
    finally:
        transports._transports.pop("microsoft365")

    ((kind, envelope_from, recipients, raw),) = sent
    assert (kind, untagged(envelope_from), recipients) == ("microsoft365", "help@contoso.test", ["ann@customer.test"])
    assert b"Message-ID: <" in raw and b"multipart/alternative" in raw
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_detail) == ("sent", "202 Accepted by Graph")


def test_an_inline_image_goes_as_a_related_part_and_plain_emails_are_escaped(
    smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    from helpdesk.tests.factories import AttachmentFactory

    workspace_mailbox(smtp_server)
    image = AttachmentFactory(filename="shot.png", content_type="image/png", content_id="shot1@acme.test")
    outgoing = OutgoingMessage(
        ticket_id=ticket.pk,
        kind="acknowledgement",
        channel=ticket.channel,
        subject="Got it <script>",
        body="We got it: <b>not bold</b>\nSee https://help.acme.test/r/1",
        to=("ann@customer.test",),
        attachments=(AttachmentRef(image.pk, "shot.png", "image/png", 8, "shot1@acme.test"),),
    )

    with django_capture_on_commit_callbacks(execute=True):
        outbound_email_queue(outgoing)

    email = smtp_server.received[0].message
    html = email.get_body(("html",))
    related = next(part for part in email.walk() if part.get_content_type() == "multipart/related")
    (inline,) = [part for part in related.iter_parts() if part["Content-ID"]]
    assert inline["Content-ID"] == "<shot1@acme.test>" and inline.get_content() == b"error 42"
    content = html.get_content()
    assert "&lt;b&gt;not bold&lt;/b&gt;" in content and '<a href="https://help.acme.test/r/1"' in content


def test_the_sweep_queues_a_send_whose_task_was_lost(smtp_server, ticket, django_capture_on_commit_callbacks):
    from inbox.tests.factories import OutboundEmailFactory

    mailbox = workspace_mailbox(smtp_server)
    lost = OutboundEmailFactory(ticket_id=ticket.pk, mailbox=mailbox, created=timezone.now() - timedelta(minutes=11))
    OutboundEmailFactory(ticket_id=ticket.pk, mailbox=mailbox)  # just queued: its task is on its way

    assert outbound_email_retry_due() == 1

    (received,) = smtp_server.received
    assert received.message["Message-ID"] == lost.message_id


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_workspace_server_over_tls_gets_the_login_only_encrypted(
    request, security, trusted_smtp_ca, ticket, agent, django_capture_on_commit_callbacks
):
    server = request.getfixturevalue(f"smtp_server_{security}")
    workspace_mailbox(server, settings={"smtp_security": security})

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert len(server.received) == 1, message.delivery_detail
    assert server.received[0].login == "support"
    message.refresh_from_db()
    assert message.delivery_status == "sent"


def test_a_certificate_from_an_unknown_authority_is_refused(
    smtp_server_starttls, ticket, agent, django_capture_on_commit_callbacks
):
    from inbox.services import transports

    transports._tls_context.cache_clear()
    workspace_mailbox(smtp_server_starttls, settings={"smtp_security": "starttls"})

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.delivery_status == "failed" and "certificate is not valid" in message.delivery_detail
    assert not smtp_server_starttls.received


def test_names_and_subjects_outside_ascii_are_encoded(smtp_server, make_user, django_capture_on_commit_callbacks):
    workspace_mailbox(smtp_server, display_name="Société Générale Support")
    ticket = TicketFactory(subject="Ça ne marche pas — 打印机", requester__email="ann@customer.test")

    reply(ticket, make_user("agent", name="Zoë Ørsted"), django_capture_on_commit_callbacks, body="Voilà ✓")

    (received,) = smtp_server.received
    assert received.content.split(b"\r\n\r\n", 1)[0].isascii()  # encoded words, not raw 8-bit headers
    email = received.message
    assert email["From"].addresses[0].display_name == "Zoë Ørsted via Société Générale Support"
    assert email["Subject"] == f"[#{ticket.pk}] Ça ne marche pas — 打印机"
    assert email.get_body(("plain",)).get_content().strip() == "Voilà ✓"


# --- Bounce addresses (VERP) --------------------------------------------------------------------------------------


def test_a_report_to_an_emails_bounce_address_marks_it_bounced_though_it_quotes_no_message_id(
    smtp_server, ticket, agent, django_capture_on_commit_callbacks
):
    from inbox.models import InboundEmail
    from inbox.reply_address import outbound_from_bounce_address
    from inbox.services.inbound import inbound_process, inbound_receive

    workspace_mailbox(smtp_server)
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    (received,) = smtp_server.received
    outbound = OutboundEmail.objects.get(ticket_message_id=message.pk)
    assert outbound_from_bounce_address(received.mail_from) == outbound.pk
    # A gateway's own words, to the envelope sender: no DSN part, no returned headers, no Message-ID anywhere.
    report = (
        f"From: MAILER-DAEMON@mx.customer.test\r\nTo: {received.mail_from}\r\nSubject: Mail could not be delivered\r\n"
        "Message-ID: <notice-1@mx.customer.test>\r\nContent-Type: text/plain\r\n\r\n"
        "550 5.1.1 The mailbox ann@customer.test is disabled.\r\n"
    ).encode()

    inbound, _created = inbound_receive(raw=report, source="imap")
    record = inbound_process(inbound.pk)

    outbound.refresh_from_db()
    message.refresh_from_db()
    assert record.status == InboundEmail.Status.BOUNCE and outbound.status == OutboundEmail.Status.BOUNCED
    assert message.delivery_status == "bounced" and "5.1.1 The mailbox" in message.delivery_detail
    assert Ticket.objects.count() == 1


def test_a_forged_bounce_address_is_not_taken_as_a_report():
    from inbox.reply_address import bounce_address, outbound_from_bounce_address

    genuine = bounce_address("help+x@acme.test", 41)
    assert genuine.startswith("help+b41-") and outbound_from_bounce_address(genuine) == 41
    assert outbound_from_bounce_address(genuine.replace("+b41-", "+b42-")) is None


# --- Internationalised addresses ------------------------------------------------------------------------------------


def test_an_internationalised_domain_is_sent_in_its_ascii_form(smtp_server):
    from inbox.services import transports

    mailbox = workspace_mailbox(smtp_server)
    transports.send(mailbox, b"Subject: Hi\r\n\r\nHello\r\n", "help@acme.test", ["juergen@bücher.example"])

    (received,) = smtp_server.received
    assert received.rcpt_tos == ["juergen@xn--bcher-kva.example"]


def test_a_non_ascii_local_part_goes_by_smtputf8_and_is_refused_in_words_without_it():
    from inbox.services import transports
    from inbox.tests.smtp_server import SmtpServer, _serve, free_port

    raw = "Subject: Grüße\r\n\r\nHallo\r\n".encode()
    sent = {}
    for offered in (False, True):
        server = SmtpServer(host="127.0.0.1", port=free_port(), users={"support": SMTP_PASSWORD})
        controller = _serve(server, auth_require_tls=False, enable_SMTPUTF8=offered)
        try:
            mailbox = workspace_mailbox(server, address=f"help-{offered}@acme.test", is_default=False)
            sent[offered] = transports.send(mailbox, raw, mailbox.address, ["用户@例子.广告"])
        except transports.PermanentSendError as error:
            sent[offered] = error
        finally:
            controller.stop()
        if offered:
            (received,) = server.received
            assert received.rcpt_tos == ["用户@" + "例子.广告".encode("idna").decode()]
        else:
            assert server.received == []

    assert str(sent[False]) == "The mail server does not take internationalised addresses (no SMTPUTF8): 用户@" + (
        "例子.广告".encode("idna").decode()
    )
    assert str(sent[True]).startswith("250 ")
