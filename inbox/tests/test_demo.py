"""The demo inbox: a support address, customer emails filed by the real pipeline, the chat widget on; idempotent."""

from __future__ import annotations

import pytest

from helpdesk.models import Ticket
from inbox.demo import seed_inbox
from inbox.models import ChatWidget, InboundEmail, Mailbox

pytestmark = pytest.mark.django_db


def test_the_demo_inbox_files_its_emails_through_the_pipeline_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = seed_inbox(slug="acme")

    assert Mailbox.objects.get().address == "support@acme.test" and "3 emails filed" in summary
    vat = Ticket.objects.get(subject="Invoice shows the wrong VAT number")
    assert vat.channel == "email" and vat.messages.filter(body__startswith="The correct number").exists()
    out_of_office = InboundEmail.objects.get(subject="Automatic reply: your ticket")
    assert out_of_office.status == InboundEmail.Status.IMPORTED  # filed, without an acknowledgement
    assert ChatWidget.objects.get().enabled
    assert seed_inbox(slug="acme") == "inbox exists" and Ticket.objects.count() == 2
