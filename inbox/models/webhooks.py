"""Outbound webhooks (subscriptions and every delivery, which is its own outbox row) and the stored responses of the
inbound API channel's Idempotency-Key."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from core import crypto

SECRET_PURPOSE = "inbox.webhook-secret"


class WebhookSubscription(models.Model):
    """An HTTPS endpoint of the workspace's own that is told, signed, when chosen ticket events happen."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event names (helpdesk.contracts.TICKET_EVENTS).")
    enabled = models.BooleanField(default=True)
    secret_encrypted = models.TextField(editable=False)
    # Failed attempts in a row, across deliveries: the subscription turns itself off at WEBHOOK_DISABLE_AFTER.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.description or self.url

    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted, purpose=SECRET_PURPOSE)

    def secret_set(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value, purpose=SECRET_PURPOSE)


class WebhookDelivery(models.Model):
    """One event for one subscription: the exact body sent, and how its attempts went (the row is the outbox)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=40)
    ticket_id = models.IntegerField(null=True, blank=True)
    body = models.TextField(help_text="The JSON sent, byte for byte the same on every attempt.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField(null=True, blank=True, help_text="No attempt after this: it fails.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-created"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"


class ApiIdempotencyKey(models.Model):
    """The answer given to a request with an `Idempotency-Key`, replayed for a retry of the same request."""

    key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    user_id = models.IntegerField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.key
