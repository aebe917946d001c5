"""Twilio phone numbers a workspace texts with, every SMS/MMS received or sent, and who replied STOP.

The auth token is encrypted at rest (core.crypto) and never shown again once saved. A message is unique by its
Twilio MessageSid, so a webhook Twilio retries, or two deliveries of it racing each other, store it once.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from core import crypto

AUTH_TOKEN_PURPOSE = "inbox.sms-auth-token"


class SmsNumber(models.Model):
    """A Twilio number (E.164) and the account it belongs to."""

    phone_number = models.CharField(max_length=16, unique=True, help_text="In E.164 form, e.g. +14155550100.")
    account_sid = models.CharField(max_length=34, help_text="Starts with AC; on the Twilio console's home page.")
    auth_token_encrypted = models.TextField(blank=True, editable=False)
    messaging_service_sid = models.CharField(
        max_length=34, blank=True, help_text="Optional (MG…): send through this Messaging Service instead."
    )
    enabled = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_detail = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["phone_number", "id"]

    def __str__(self) -> str:
        return self.phone_number

    def auth_token(self) -> str:
        if not self.auth_token_encrypted:
            return ""
        return crypto.decrypt(self.auth_token_encrypted, purpose=AUTH_TOKEN_PURPOSE)

    def auth_token_set(self, token: str) -> None:
        self.auth_token_encrypted = crypto.encrypt(token, purpose=AUTH_TOKEN_PURPOSE) if token else ""


class SmsMessage(models.Model):
    """One text message to or from a customer, and where it went on the helpdesk side."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Received"
        OUTBOUND = "outbound", "Sent"

    number = models.ForeignKey(SmsNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    # Empty until Twilio accepted an outbound message; unique when set.
    message_sid = models.CharField(max_length=64, blank=True)
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    media = models.JSONField(default=list, blank=True, help_text="Media URLs and content types as Twilio sent them.")
    # Twilio's status words (received, queued, sent, delivered, undelivered, failed…), plus "opted_out" for a
    # reply we did not send because the customer had texted STOP.
    status = models.CharField(max_length=16, blank=True)
    error_code = models.CharField(max_length=10, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    ticket_id = models.IntegerField(null=True, blank=True)
    ticket_message_id = models.IntegerField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_sid"], condition=~models.Q(message_sid=""), name="sms_message_sid_unique"
            )
        ]
        indexes = [
            models.Index(fields=["from_number", "to_number", "-created"], name="sms_conversation"),
            models.Index(fields=["ticket_id"], name="sms_ticket"),
        ]

    def __str__(self) -> str:
        return self.message_sid or f"{self.direction} {self.from_number} → {self.to_number}"


class SmsOptOut(models.Model):
    """A customer's number that texted STOP (or another opt-out keyword): nothing is sent to it until START."""

    phone_number = models.CharField(max_length=32, unique=True)
    opted_out_at = models.DateTimeField(default=timezone.now)
    opted_in_at = models.DateTimeField(null=True, blank=True, help_text="Set when the customer texted START again.")
    keyword = models.CharField(max_length=16, blank=True, help_text="The word the customer texted.")

    class Meta:
        ordering = ["-opted_out_at", "id"]

    def __str__(self) -> str:
        return self.phone_number

    @property
    def active(self) -> bool:
        return self.opted_in_at is None
