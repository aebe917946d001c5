"""Mailboxes a workspace receives support mail at, and every message received, kept whole before parsing.

A received message is stored (the raw .eml, in the workspace's own storage) and committed before anything parses
it or tells the mail server it was taken, so a crash mid-batch loses nothing; the Message-ID is unique, so a
re-fetched message is a no-op. Processing (parse, thread, ticket) runs afterwards from the stored bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models
from django.utils import timezone

from core import crypto

SECRETS_PURPOSE = "inbox.mailbox-secrets"


class Mailbox(models.Model):
    """A support address: how its mail is fetched (IMAP, Microsoft 365, Gmail, or forwarded to us) and sent."""

    class Kind(models.TextChoices):
        IMAP = "imap", "IMAP mailbox"
        MICROSOFT365 = "microsoft365", "Microsoft 365"
        GMAIL = "gmail", "Gmail or Google Workspace"
        FORWARD = "forward", "Forwarding from your mail provider"

    class Status(models.TextChoices):
        NEW = "new", "Not tested yet"
        CONNECTED = "connected", "Connected"
        FAILING = "failing", "Failing"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    address = models.EmailField(unique=True, help_text="The support address customers write to.")
    display_name = models.CharField(max_length=100, blank=True, help_text='Shown as the sender, e.g. "Acme Support".')
    is_default = models.BooleanField(
        default=False, help_text="Replies to tickets that came by no mailbox go from here."
    )
    active = models.BooleanField(default=True)
    # What the kind needs that is not secret: host, port, security, username, folder, after-import action, Graph
    # tenant and client ids, SMTP server… Secrets (passwords, client secrets, OAuth tokens) are encrypted apart.
    settings = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    # Where the last fetch stopped: IMAP UIDVALIDITY and UID, Graph deltaLink, Gmail historyId.
    cursor = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_mailbox"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def secrets(self) -> dict[str, Any]:
        if not self.secrets_encrypted:
            return {}
        return json.loads(crypto.decrypt(self.secrets_encrypted, purpose=SECRETS_PURPOSE))

    def secrets_set(self, values: dict[str, Any]) -> None:
        self.secrets_encrypted = crypto.encrypt(json.dumps(values), purpose=SECRETS_PURPOSE) if values else ""


def message_id_key(message_id: str) -> str:
    """The unique key of a Message-ID: case kept (RFC 5322 ids are case-sensitive), brackets and spaces not."""
    return hashlib.sha256(message_id.strip().strip("<>").strip().encode()).hexdigest()


def raw_path(inbound: InboundEmail, filename: str) -> str:
    # The storage (django-tenants' TenantFileSystemStorage) puts every file under the workspace's own folder.
    return f"inbox/raw/{inbound.received:%Y/%m/%d}/{filename}"


class InboundEmail(models.Model):
    """One message as it arrived, and what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Waiting to be processed"
        IMPORTED = "imported", "Imported"
        IGNORED = "ignored", "Ignored (auto-reply or loop)"
        BOUNCE = "bounce", "Delivery report"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Could not be parsed"

    class Source(models.TextChoices):
        IMAP = "imap", "IMAP"
        GRAPH = "graph", "Microsoft Graph"
        GMAIL = "gmail", "Gmail API"
        WEBHOOK = "webhook", "Forwarded by webhook"
        SMTP = "smtp", "Forwarded to the forwarding address"

    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    source = models.CharField(max_length=8, choices=Source.choices)
    source_ref = models.CharField(max_length=255, blank=True, help_text="The message's id at the source (UID…).")
    # The Message-ID header (synthesised from the bytes' hash when missing); `message_key` makes it unique.
    message_id = models.TextField()
    message_key = models.CharField(max_length=64, unique=True)
    raw = models.FileField(upload_to=raw_path, max_length=300, blank=True)
    size = models.PositiveIntegerField()
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why it was ignored, rejected or could not be parsed.")
    ticket_id = models.IntegerField(null=True, blank=True)
    ticket_message_id = models.IntegerField(null=True, blank=True)
    created_ticket = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    received = models.DateTimeField(default=timezone.now, editable=False)
    processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received", "-id"]
        indexes = [
            models.Index(fields=["status", "received"], name="inbound_status_received"),
            models.Index(fields=["ticket_id"], name="inbound_ticket"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id
