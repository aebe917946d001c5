"""The AI ledger: one row per facade call (what ran, what it cost, how it went) and the agents' verdicts on it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class AIRun(models.Model):
    class Status(models.TextChoices):
        OK = "ok", "OK"
        FALLBACK = "fallback", "Answered by a fallback provider"
        ERROR = "error", "Failed"
        BLOCKED = "blocked", "Blocked by a safety check"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ai_runs"
    )
    feature = models.CharField(max_length=80)
    operation = models.CharField(max_length=20, help_text="generate, classify, summarize, rewrite, embed…")
    provider = models.CharField(max_length=30, blank=True)
    model = models.CharField(max_length=100, blank=True)
    # Which configuration paid for it: the monthly budget sums these.
    provider_config = models.ForeignKey(
        "ai.ProviderConfig", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    prompt_key = models.CharField(max_length=80, blank=True)
    prompt_version = models.CharField(max_length=20, blank=True, help_text='"system:v2" or "tenant:v5".')
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    # Why the preferred provider did not answer (or why nothing did). Never contains a key: see ai.orchestrator.
    error_class = models.CharField(max_length=80, blank=True)
    error_message = models.TextField(blank=True)
    fallback_from = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    redacted_count = models.PositiveIntegerField(default=0, help_text="Personal data items replaced before sending.")
    injection_flagged = models.BooleanField(default=False)
    # Details for the run log: each provider's failure or skip reason, injection patterns, moderation.
    flags = models.JSONField(default=dict, blank=True)
    # What the agent was shown (needed for the edit distance of their feedback); empty for embeddings.
    output_text = models.TextField(blank=True)
    output_data = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["created"], name="ai_run_created"),
            models.Index(fields=["feature", "created"], name="ai_run_feature_created"),
            models.Index(fields=["provider", "created"], name="ai_run_provider_created"),
            models.Index(fields=["provider_config", "created"], name="ai_run_config_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.feature} via {self.provider or '—'} ({self.status})"


class AIFeedback(models.Model):
    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted as is"
        EDITED = "edited", "Edited, then used"
        REJECTED = "rejected", "Rejected"

    run = models.ForeignKey(AIRun, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ai_feedback"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # Words inserted, deleted or replaced between the output and what the agent finally sent.
    edit_distance = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["run", "user"], name="ai_feedback_one_per_user")]
        indexes = [models.Index(fields=["created"], name="ai_feedback_created")]
        verbose_name_plural = "AI feedback"

    def __str__(self) -> str:
        return f"{self.outcome} on run #{self.run_id}"
