"""Customer satisfaction: one survey per solved ticket, answered through a secret link."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def _token() -> str:
    return secrets.token_urlsafe(24)


class SatisfactionSurvey(models.Model):
    ticket = models.OneToOneField("helpdesk.Ticket", on_delete=models.CASCADE, related_name="survey")
    token = models.CharField(max_length=40, unique=True, default=_token, editable=False)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)], help_text="1 (bad) to 5."
    )
    comment = models.TextField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        # The ticket list's csat_from/csat_to (a dashboard's CSAT figure drilled down): answers of a range of days.
        indexes = [
            models.Index(
                fields=["answered_at"], name="survey_answered_at", condition=models.Q(answered_at__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"Survey of #{self.ticket_id}: {self.rating or 'unanswered'}"
