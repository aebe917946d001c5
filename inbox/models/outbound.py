"""Every email we send: about a ticket (an agent's reply, an acknowledgement, a survey, an auto-response) or a
business email another app asked for through inbox.facade.email_queue (a quote), named by its `reference`. Who it
went to, the Message-ID it went out as (so answers and bounces thread back), and how its delivery went."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .mail import Mailbox


class OutboundEmail(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "Agent's reply"
        ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
        CSAT = "csat", "Satisfaction survey"
        AUTO_RESPONSE = "auto_response", "Automatic answer"
        QUOTE = "quote", "Quote"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DEFERRED = "deferred", "Deferred, retrying"
        BOUNCED = "bounced", "Bounced"
        FAILED = "failed", "Failed"

    # None: a business email (no ticket); its `reference` ("quote:12:2") says what it is about.
    ticket_id = models.IntegerField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    ticket_message_id = models.IntegerField(null=True, blank=True, help_text="The thread entry, when there is one.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The mailbox it goes out by (None: the platform's address, as no mailbox was connected).
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="sent")
    from_address = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField(help_text="Markdown, as written.")
    author_name = models.CharField(max_length=150, blank=True)
    # Where answers go when there is no ticket to thread them to (the sender of a business email); blank: From.
    reply_to = models.CharField(max_length=320, blank=True)
    # [{"id", "filename", "content_type", "content_id"}]: the helpdesk's attachments, read when the mail is built;
    # or [{"path", "filename", "content_type", "size", "sha256"}]: a business email's own file, in this workspace's
    # storage (inbox.services.business_email).
    attachments = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    answer = models.TextField(blank=True, help_text="The mail server's last answer.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["ticket_id", "created"], name="outbound_ticket_created"),
            models.Index(fields=["status", "next_attempt_at"], name="outbound_status_next"),
            models.Index(
                fields=["reference", "created"], name="outbound_reference_created", condition=~Q(reference="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
