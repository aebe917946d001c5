"""Receiving mail: stored whole and committed before processing, once per Message-ID, oversized ones rejected."""

from __future__ import annotations

import pytest
from django.test import override_settings

from helpdesk.models import Ticket
from inbox.models import InboundEmail
from inbox.services.inbound import inbound_receive
from inbox.tests.factories import MailboxFactory, raw_email

pytestmark = pytest.mark.django_db


def test_a_received_message_is_stored_whole_and_opens_a_ticket(django_capture_on_commit_callbacks):
    raw = raw_email(subject="Printer on fire")
    with django_capture_on_commit_callbacks(execute=True):
        inbound, created = inbound_receive(raw=raw, source="imap", mailbox=MailboxFactory(), source_ref="17")

    inbound.refresh_from_db()
    assert created and inbound.status == InboundEmail.Status.IMPORTED
    with inbound.raw.open("rb") as stored:
        assert stored.read() == raw
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert (ticket.subject, ticket.channel, ticket.requester.email) == ("Printer on fire", "email", "ann@customer.test")


def test_a_sender_with_a_non_ascii_local_part_becomes_a_contact(django_capture_on_commit_callbacks):
    # SMTPUTF8 mail (RFC 6531) carries the address raw in UTF-8, as Gmail and Outlook send it.
    raw = raw_email(sender="jürgen@kunde.test", subject="Drucker brennt")
    with django_capture_on_commit_callbacks(execute=True):
        inbound, created = inbound_receive(raw=raw, source="imap")

    inbound.refresh_from_db()
    assert created and inbound.status == InboundEmail.Status.IMPORTED, inbound.reason
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert (ticket.requester.email, ticket.requester.customer.domain) == ("jürgen@kunde.test", "kunde.test")


def test_the_same_message_received_twice_is_stored_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = inbound_receive(raw=raw_email(), source="imap")
        again, created = inbound_receive(raw=raw_email(), source="webhook")

    assert not created and again.pk == first.pk
    assert InboundEmail.objects.count() == 1 and Ticket.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes():
    raw = raw_email().replace(b"Message-ID: <m1@customer.test>\r\n", b"")

    first, _ = inbound_receive(raw=raw, source="imap")
    again, created = inbound_receive(raw=raw, source="imap")

    assert not created and again.pk == first.pk and first.message_id.endswith("@missing-message-id.switchboard>")


@override_settings(INBOX_MAX_MESSAGE_BYTES=1000)
def test_an_oversized_message_is_rejected_with_its_headers_kept(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = inbound_receive(raw=raw_email(body="x" * 5000), source="imap")

    assert inbound.status == InboundEmail.Status.REJECTED and "the limit is 1,000" in inbound.reason
    assert Ticket.objects.count() == 0
