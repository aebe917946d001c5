"""SLA policies: which tickets they cover and their targets in business minutes, plus escalation on breach."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .teams import BusinessCalendar, Team


class SLAPolicy(models.Model):
    """The first active policy (by `position`) whose conditions all match a ticket applies to it.

    An empty condition matches everything, so a catch-all policy sits last.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=100, help_text="Lower is checked first.")
    active = models.BooleanField(default=True)
    # Conditions (empty: any).
    priority = models.CharField(max_length=10, blank=True, help_text="Ticket priority, e.g. urgent.")
    customer_tier = models.CharField(max_length=20, blank=True, help_text="Customer tier, e.g. enterprise.")
    channel = models.CharField(max_length=12, blank=True)
    # Targets, in business minutes of the calendar.
    first_response_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    resolution_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, help_text="Empty: the default calendar."
    )
    # Escalation.
    warn_at_percent = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(10), MaxValueValidator(99)],
        help_text="Warn the assignee and team lead when this share of a target has elapsed.",
    )
    breach_reassign_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="On breach, hand the ticket to this team (empty: keep it where it is).",
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class SLARiskModel(models.Model):
    """A breach-risk model learned from this workspace's finished tickets (helpdesk.sla_risk).

    Stored as plain numbers (feature names, scaling, coefficients), never as a pickle: loading it runs no code.
    The newest row is the one in use; nightly training adds a row and keeps a few for comparison.
    """

    created = models.DateTimeField(auto_now_add=True)
    algorithm = models.CharField(max_length=40, default="logistic_regression")
    samples = models.PositiveIntegerField(help_text="Finished tickets it learned from.")
    breached_share = models.FloatField(help_text="Share of those tickets that breached their SLA.")
    # Measured on the newest tickets, held out of training (a time split: it predicts the future from the past).
    holdout_samples = models.PositiveIntegerField(default=0)
    auc = models.FloatField(null=True, blank=True, help_text="Area under the ROC curve on the held-out tickets.")
    accuracy = models.FloatField(null=True, blank=True)
    heuristic_auc = models.FloatField(null=True, blank=True, help_text="The heuristic's AUC on the same tickets.")
    # {"features": [...], "mean": [...], "scale": [...], "coef": [...], "intercept": x, "typical_minutes": {...}}
    parameters = models.JSONField()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "SLA risk model"

    def __str__(self) -> str:
        auc = f"AUC {self.auc:.2f}" if self.auc is not None else "no AUC"
        return f"{self.algorithm} on {self.samples} tickets ({auc})"
