"""The workspace's helpdesk switches: automation it opted into, thresholds, the help center. One row (pk=1)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

SHARE = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class HelpdeskSettings(models.Model):
    auto_assign = models.BooleanField(default=True, help_text="New tickets go to an agent by skills, load and turn.")
    analysis_enabled = models.BooleanField(default=True, help_text="Analyse tickets with AI on create and replies.")
    auto_response = models.BooleanField(
        default=False,
        help_text="Answer low-complexity tickets from the knowledge base without an agent, when confident enough.",
    )
    auto_close = models.BooleanField(
        default=False, help_text="Solve auto-answered tickets; a reply from the customer reopens them."
    )
    auto_response_confidence = models.FloatField(default=0.8, validators=SHARE)
    kb_recommendation_threshold = models.FloatField(
        default=0.45, validators=SHARE, help_text="Minimum relevance (0–1) for an article to be recommended."
    )
    help_center_enabled = models.BooleanField(default=True)
    help_center_title = models.CharField(max_length=100, blank=True, help_text="Empty: “<workspace> Help Center”.")
    csat_enabled = models.BooleanField(default=True, help_text="Send a satisfaction survey when a ticket is solved.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "helpdesk settings"
        verbose_name_plural = "helpdesk settings"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="helpdesk_settings_single_row")]

    def __str__(self) -> str:
        return "Helpdesk settings"

    @classmethod
    def current(cls) -> HelpdeskSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings
