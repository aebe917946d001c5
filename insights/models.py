"""Trends the detection jobs found (insights/trends.py) and the alerts sent about them, each at most once."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TrendKind(models.TextChoices):
    DEFECT = "defect", "Recurring defect"
    HEALTH_DROP = "health_drop", "Key account health drop"


class TrendStatus(models.TextChoices):
    SPIKING = "spiking", "Spiking"  # above its own baseline on the last run
    WATCHING = "watching", "Watching"  # spiked before, back within its baseline


class Trend(models.Model):
    """A recurring defect (a cluster of tickets) or a key account's health drop, tracked across detection runs.

    A defect is recognised on the next run by its centroid (cosine ≥ trends.TRACK_SIMILARITY), a health drop by its
    company (`key`), so a trend that keeps spiking stays one row and is alerted once."""

    Kind = TrendKind
    Status = TrendStatus

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DEFECT)
    key = models.CharField(max_length=64, blank=True, help_text="What identifies a non-cluster trend (a company id).")
    name = models.CharField(max_length=200)
    keywords = models.JSONField(default=list, blank=True)
    examples = models.JSONField(default=list, blank=True, help_text="Subjects of the most central tickets.")
    centroid = models.JSONField(default=list, blank=True, help_text="Unit vector of the cluster (defects).")
    ticket_ids = models.JSONField(default=list, blank=True)
    customer_ids = models.JSONField(default=list, blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="The last run's counts, baseline and p-value.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SPIKING)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    last_alerted = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        indexes = [models.Index(fields=["kind", "status"], name="insights_trend_kind_status")]

    def __str__(self) -> str:
        return self.name


class TrendAlert(models.Model):
    """One alert about one trend: the unique constraint is what makes "never twice" hold under concurrent runs."""

    trend = models.ForeignKey(Trend, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=12, choices=TrendKind.choices)
    recipients = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trend", "kind"], name="insights_trendalert_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alert for {self.trend}"
