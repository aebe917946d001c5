"""Notifications: what each person was told (in app), how each channel delivered it, what they want to be told,
the workspace's templates, their browsers' push subscriptions and the objects they follow."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .contracts import CHANNEL_LABELS, PRIORITIES

CHANNEL_CHOICES = list(CHANNEL_LABELS.items())
PRIORITY_CHOICES = [(priority, priority.title()) for priority in PRIORITIES]


class Dispatch(models.Model):
    """One call of `notify()`: what to tell whom, kept until its fan-out has run (the task takes its id only).

    `dedupe_key` is unique: a repeated call with the same key finds the row and queues nothing."""

    event = models.CharField(max_length=80)
    recipient_ids = models.JSONField(default=list)
    context = models.JSONField(default=dict)
    link = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.CharField(max_length=10, choices=PRIORITY_CHOICES, default="normal")
    dedupe_key = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="notif_dispatch_dedupe")
        ]

    def __str__(self) -> str:
        return f"{self.event} → {len(self.recipient_ids)}"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An entry of one person's notification centre (the in-app channel)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event = models.CharField(max_length=80)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.CharField(max_length=10, choices=PRIORITY_CHOICES, default="normal")
    read_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        indexes = [
            # The centre reads newest first per person (keyset on created, id): one index range per page.
            models.Index(fields=["user", "-created", "-id"], name="notif_user_created"),
            # "Unread" and the bell's count: only the unread rows are in this index, however many are read.
            models.Index(
                fields=["user", "-created", "-id"], condition=Q(read_at__isnull=True), name="notif_user_unread"
            ),
            models.Index(fields=["user", "event", "-created", "-id"], name="notif_user_event"),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One notification on one channel to one person: its status, attempts and the other side's last answer."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        READ = "read", "Read"

    class Digest(models.TextChoices):
        NONE = "", "Immediately"
        HOURLY = "hourly", "Hourly digest"
        DAILY = "daily", "Daily digest"

    dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=80)
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Held for a digest instead of being sent on its own.
    digest = models.CharField(max_length=10, choices=Digest.choices, blank=True, default="")
    title = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    answer = models.CharField(max_length=500, blank=True)  # the server's last answer (SMTP, Twilio sid, push status)
    # Not sent before: quiet hours' end, or the next retry after a failure.
    not_before = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created", "-id"], name="notif_delivery_created"),
            models.Index(fields=["status", "channel", "-created"], name="notif_delivery_status"),
            models.Index(fields=["user", "-created"], name="notif_delivery_user"),
            # The sweep: queued, not held for a digest, due.
            models.Index(fields=["not_before"], condition=Q(status="queued", digest=""), name="notif_delivery_due"),
            models.Index(
                fields=["user", "digest"], condition=Q(status="queued") & ~Q(digest=""), name="notif_delivery_digest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.channel} → {self.user_id}: {self.status}"


class Preference(models.Model):
    """One person's choice (or, with no user, the workspace's default) for one event type on one channel."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event = models.CharField(max_length=80)
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event", "channel"], nulls_distinct=False, name="notif_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id or 'workspace'} {self.event} {self.channel}: {self.enabled}"


class DeliverySettings(models.Model):
    """One person's (or, with no user, the workspace's default) quiet hours, digest and SMS number."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    timezone = models.CharField(max_length=64, blank=True)  # empty: the workspace's, else UTC
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    digest = models.CharField(max_length=10, choices=Delivery.Digest.choices, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True)  # E.164, for SMS notices

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], nulls_distinct=False, name="notif_settings_unique")]

    def __str__(self) -> str:
        return f"settings of {self.user_id or 'workspace'}"


class NotificationTemplate(models.Model):
    """A workspace's own wording of one event on one channel (the default ships with the event type)."""

    event = models.CharField(max_length=80)
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="notif_template_unique")]

    def __str__(self) -> str:
        return f"{self.event} {self.channel}"


class PushSubscription(models.Model):
    """A browser that accepted Web Push for a person (its endpoint and the keys to encrypt for it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"push of {self.user_id}"


class Follow(models.Model):
    """A person follows an object of another app ("ticket", 42): they hear of its changes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "object_type", "object_id"], name="notif_follow_unique")]
        indexes = [models.Index(fields=["object_type", "object_id"], name="notif_follow_object")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.object_type} {self.object_id}"
