"""Business email through inbox.facade (a quote to a customer): the same outbound pipeline as ticket mail, by a
real SMTP server on a socket; bound to no ticket, so its status, bounces and retries never reach the helpdesk."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from helpdesk import facade as helpdesk
from inbox import facade as inbox
from inbox.models import OutboundEmail
from inbox.services.bounces import bounce_record
from inbox.services.outbound_email import outbound_email_retry_due, outbound_email_send, ticket_for_sent_message_ids
from inbox.tests.test_outbound_email import untagged, workspace_mailbox

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def queue(capture, **fields):
    values = {
        "to": ["Peter Gibbons <peter@initech.test>"],
        "cc": "bill@initech.test",
        "subject": "Quote Q-00012 from Acme",
        "body": "Hello Peter,\n\nour quote: https://acme.example.test/q/abc/\n\nAda",
        "reference": "quote:12:2",
        "author_name": "Ada Lovelace",
        "reply_to": "ada@acme.test",
        "attachments": [("Q-00012-rev2.pdf", "application/pdf", PDF)],
    } | fields
    with capture(execute=True):
        return inbox.email_queue(**values)


@pytest.fixture
def no_helpdesk(monkeypatch):
    """Any call into the helpdesk fails the test: business mail has no ticket to report to."""

    def refuse(*args, **kwargs):
        raise AssertionError("business email called the helpdesk")

    for name in ("message_delivery_set", "message_for_external_id", "message_external_id_set", "ticket_summary"):
        monkeypatch.setattr(helpdesk, name, refuse)


def test_a_business_email_goes_out_with_its_pdf_both_parts_and_no_ticket(
    smtp_server, no_helpdesk, django_capture_on_commit_callbacks
):
    mailbox = workspace_mailbox(smtp_server)

    email_id = queue(django_capture_on_commit_callbacks)

    (received,) = smtp_server.received
    email = received.message
    assert untagged(received.mail_from) == "help@acme.test"
    assert sorted(received.rcpt_tos) == ["bill@initech.test", "peter@initech.test"]
    assert email["From"].addresses[0].display_name == "Ada Lovelace via Acme Support"
    assert email["From"].addresses[0].addr_spec == "help@acme.test"
    assert email["Subject"] == "Quote Q-00012 from Acme"  # no ticket token
    assert email["Reply-To"].addresses[0].addr_spec == "ada@acme.test"
    assert email["In-Reply-To"] is None and email["Auto-Submitted"] is None
    assert "our quote: https://acme.example.test/q/abc/" in email.get_body(("plain",)).get_content()
    assert 'href="https://acme.example.test/q/abc/"' in email.get_body(("html",)).get_content()
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_filename() == "Q-00012-rev2.pdf"
    assert attachment.get_content() == PDF

    outbound = OutboundEmail.objects.get(pk=email_id)
    assert (outbound.ticket_id, outbound.kind, outbound.reference) == (None, "quote", "quote:12:2")
    assert outbound.mailbox == mailbox
    assert outbound.message_id == email["Message-ID"] and outbound.message_id.endswith("@acme.test>")
    (delivery,) = inbox.email_statuses("quote:12")
    assert (delivery.id, delivery.status, delivery.reference) == (email_id, "sent", "quote:12:2")
    assert delivery.attachments == (("Q-00012-rev2.pdf", hashlib.sha256(PDF).hexdigest()),)
    assert delivery.to == ("Peter Gibbons <peter@initech.test>",) and delivery.delivered


def test_the_attachment_is_kept_in_the_workspaces_own_folder_under_a_name_no_caller_picks(
    smtp_server, django_capture_on_commit_callbacks
):
    workspace_mailbox(smtp_server)

    email_id = queue(django_capture_on_commit_callbacks, attachments=[("../../etc/passwd", "text/plain", b"x")])

    (stored,) = OutboundEmail.objects.get(pk=email_id).attachments
    assert stored["filename"] == "passwd" and stored["path"].startswith("inbox/outbound/")
    on_disk = Path(default_storage.path(stored["path"]))
    workspace_folder = Path(settings.MEDIA_ROOT) / connection.schema_name
    assert on_disk.is_relative_to(workspace_folder) and on_disk.read_bytes() == b"x"


def test_statuses_are_found_by_reference_and_never_by_a_longer_id(smtp_server, django_capture_on_commit_callbacks):
    workspace_mailbox(smtp_server)
    first = queue(django_capture_on_commit_callbacks, reference="quote:12:1")
    second = queue(django_capture_on_commit_callbacks, reference="quote:12:2")
    queue(django_capture_on_commit_callbacks, reference="quote:123:1")

    assert [delivery.id for delivery in inbox.email_statuses("quote:12")] == [second, first]
    assert [delivery.id for delivery in inbox.email_statuses("quote:12:1")] == [first]


def test_bad_addresses_are_refused_by_name_and_nothing_is_queued(django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as refused:
        queue(django_capture_on_commit_callbacks, to="peter@initech.test, not-an-address")
    assert refused.value.message_dict == {"to": ["“not-an-address” is not an email address."]}
    with pytest.raises(ValidationError) as nobody:
        queue(django_capture_on_commit_callbacks, to=" , ")
    assert "to" in nobody.value.message_dict
    assert not OutboundEmail.objects.exists()
    assert inbox.email_addresses_parse("a@x.test; Ann <A@x.test>, b@y.test") == ["a@x.test", "b@y.test"]


def test_a_rolled_back_transaction_sends_nothing(smtp_server, django_capture_on_commit_callbacks):
    workspace_mailbox(smtp_server)

    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        inbox.email_queue(to=["peter@initech.test"], subject="Quote", body="Hi", reference="quote:1:1")
        raise RuntimeError("the quote could not be frozen")

    assert not OutboundEmail.objects.exists() and not smtp_server.received


def test_without_a_mailbox_it_goes_from_the_platform_address_signed_with_the_workspace_name(
    mailoutbox, django_capture_on_commit_callbacks
):
    queue(django_capture_on_commit_callbacks, author_name="")

    (sent,) = mailoutbox
    sender = sent.parsed["From"].addresses[0]
    assert sender.addr_spec == "no-reply@switchboard.test" and sender.display_name == connection.tenant.name
    assert OutboundEmail.objects.get().status == "sent"


def test_a_deferral_is_retried_by_the_sweep_and_a_bounce_is_recorded_without_the_helpdesk(
    smtp_server, no_helpdesk, django_capture_on_commit_callbacks
):
    workspace_mailbox(smtp_server)
    smtp_server.answer_next("451 4.7.1 Greylisted, please try again later")

    email_id = queue(django_capture_on_commit_callbacks)

    (delivery,) = inbox.email_statuses("quote:12")
    assert delivery.status == "deferred" and "451 4.7.1" in delivery.answer and not smtp_server.received
    OutboundEmail.objects.filter(pk=email_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_email_retry_due() == 1
    (received,) = smtp_server.received
    assert received.message.get_payload()[1].get_content() == PDF  # the stored bytes, read again by the retry
    assert inbox.email_statuses("quote:12")[0].status == "sent"

    message_id = OutboundEmail.objects.get(pk=email_id).message_id
    assert bounce_record(original_message_id=message_id, diagnostic="550 5.1.1 user unknown")

    (delivery,) = inbox.email_statuses("quote:12:2")
    assert (delivery.status, delivery.answer, delivery.problem) == ("bounced", "550 5.1.1 user unknown", True)
    assert outbound_email_send(email_id) == "bounced"  # never sent again
    assert ticket_for_sent_message_ids([message_id]) is None  # an answer to it is not threaded onto a ticket
