"""Per-workspace trained classifiers (e.g. ticket categories learnt from agents' choices): datasets and versions.

A `Dataset` is a frozen snapshot of labelled examples for one named classifier, oldest first (the newest part is
the holdout). A `ModelVersion` is one training run on one dataset: its progress while it trains, then its model
(plain arrays, never a pickle), its evaluation on the holdout, the majority baseline's and the then-deployed
version's on the same holdout, and whether it was deployed. At most one version per name is deployed.

Two kinds share this lifecycle. A "text" classifier learns labels from texts (`texts`, `labels`). An "outcome" model
learns a yes/no outcome from a record's fields (a lead won or lost, a company churned or not): its examples are
in `rows`, one JSON object per example (field → string or number; a JSON list of objects rather than JSON text
squeezed into `texts`, so the database keeps the values' types and nothing is encoded twice), and its labels are
"1" (the outcome happened) and "0". `label_names` says what people call them, e.g. {"1": "Won", "0": "Lost"}.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    TEXT = "text", "Text classifier"
    OUTCOME = "outcome", "Outcome model"


class Dataset(models.Model):
    name = models.CharField(max_length=80, help_text='The classifier it trains, e.g. "helpdesk.category".')
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    rows = models.JSONField(default=list, blank=True, help_text="Outcome models: field → value per example.")
    texts = ArrayField(models.TextField(), default=list, help_text="Oldest first.")
    labels = ArrayField(models.CharField(max_length=100), default=list)
    label_counts = models.JSONField(default=dict, help_text="Examples per label.")
    label_names = models.JSONField(default=dict, blank=True, help_text="Label → name shown to people.")
    sources = models.JSONField(default=dict, blank=True, help_text='Where examples came from, e.g. {"tickets": 90}.')
    examples = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["name", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} dataset #{self.pk} ({self.examples} examples)"

    def label_name(self, label: str) -> str:
        return self.label_names.get(label) or label


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    version = models.PositiveIntegerField()
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    model_bytes = models.BinaryField(null=True, blank=True)
    evaluation = models.JSONField(
        null=True, blank=True, help_text='This version on the holdout (outcome models: with the naive Bayes "anchor").'
    )
    baseline = models.JSONField(
        null=True, blank=True, help_text="Always the commonest label (outcome models: the base rate), same holdout."
    )
    current_evaluation = models.JSONField(
        null=True, blank=True, help_text="The version deployed when this one finished, on the same holdout."
    )
    compared_with = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    holdout_start = models.PositiveIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    abstain_below = models.FloatField(null=True, blank=True)
    training_seconds = models.FloatField(null=True, blank=True)
    decision = models.CharField(max_length=300, blank=True, help_text="Why it was (not) deployed, in words.")
    deployed = models.BooleanField(default=False)
    deployed_at = models.DateTimeField(null=True, blank=True)
    forced = models.BooleanField(default=False, help_text="Deployed by an admin although not better.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    trained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="ai_model_version_unique_number"),
            models.UniqueConstraint(fields=["name"], condition=Q(deployed=True), name="ai_model_version_one_deployed"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.status})"

    @property
    def label(self) -> str:
        """How the ledger and the pages name it, e.g. "helpdesk.category v3"."""
        return f"{self.name} v{self.version}"
