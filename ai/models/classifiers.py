"""Per-workspace trained classifiers (e.g. ticket categories learnt from agents' choices), stored as plain arrays."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class TrainedClassifier(models.Model):
    """One named classifier of the workspace: logistic regression over the local sentence embeddings.

    `model_bytes` is the `.npz` archive written by ai.providers.local.training (arrays only, never a pickle).
    `fingerprint` is the caller's summary of the training data, so it can tell whether retraining is due.
    """

    name = models.CharField(max_length=80, unique=True, help_text='e.g. "helpdesk.category".')
    labels = ArrayField(models.CharField(max_length=100), default=list)
    label_counts = models.JSONField(default=dict, help_text="Training examples per label.")
    examples = models.PositiveIntegerField(default=0)
    accuracy = models.FloatField(null=True, blank=True, help_text="Cross-validated accuracy, 0–1.")
    embedding_model = models.CharField(max_length=80)
    fingerprint = models.CharField(max_length=64, blank=True)
    model_bytes = models.BinaryField()
    trained_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.examples} examples, {len(self.labels)} labels)"
