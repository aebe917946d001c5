"""Mailbox secrets are encrypted at rest and follow a key rotation (`manage.py secrets_reencrypt`)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from inbox.models import Mailbox
from inbox.tests.factories import MailboxFactory

pytestmark = pytest.mark.django_db


def test_mailbox_secrets_are_encrypted_and_survive_a_key_rotation(settings):
    settings.AI_ENCRYPTION_KEYS = ["old-secret-0123456789"]
    mailbox = MailboxFactory()
    mailbox.secrets_set({"password": "imap-pass"})
    mailbox.save()
    assert "imap-pass" not in Mailbox.objects.values_list("secrets_encrypted", flat=True).get(pk=mailbox.pk)

    settings.AI_ENCRYPTION_KEYS = ["new-secret-9876543210", "old-secret-0123456789"]
    out = io.StringIO()
    call_command("secrets_reencrypt", stdout=out)

    settings.AI_ENCRYPTION_KEYS = ["new-secret-9876543210"]
    mailbox.refresh_from_db()
    assert mailbox.secrets() == {"password": "imap-pass"} and "Re-encrypted" in out.getvalue()
