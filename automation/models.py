"""Automation's tables: rules (with a version per save), the firing ledger that makes "once per event" hold under
retries and concurrent workers, and the run log of each firing (kept for AUTOMATION_RUN_RETENTION_DAYS)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Rule(models.Model):
    """When `trigger` happens (or, for a time trigger, when its timer has run out), and `conditions` hold, do
    `actions`. Rules are evaluated in `position` order, lowest first.

    `conditions`: {"all": [cond, …], "any": [cond, …]} where cond is {"field", "op", "value"}; every condition of
    "all" and, when "any" is not empty, at least one of "any" must hold. `actions`: [{"type", "value"}, …].
    `timer` (time triggers only): {"anchor": "created"|"updated"|"solved"|"customer_waiting", "amount": int,
    "unit": "minutes"|"hours"|"days"|"business_hours"}.
    """

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    trigger = models.CharField(max_length=40)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list, blank=True)
    timer = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=False)
    # Time rules: the anchor time up to which tickets have been examined (the next pass starts there).
    checked_through = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["trigger", "enabled", "position"], name="automation_rule_trigger")]

    def __str__(self) -> str:
        return self.name

    @property
    def trigger_label(self) -> str:
        from .catalog import TRIGGERS_BY_KEY

        trigger = TRIGGERS_BY_KEY.get(self.trigger)
        return trigger.label if trigger else self.trigger


class RuleVersion(models.Model):
    """What a rule was after one save, and who saved it: the versions page diffs consecutive ones."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="automation_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.number}"


class RuleFiring(models.Model):
    """The ledger: a rule fires at most once per event (`event_key`), and a time rule at most once per object and
    period (`period_key`, the anchor time its timer ran from). The row is written before the actions run."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    event_key = models.CharField(max_length=64, blank=True)
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    period_key = models.CharField(max_length=40, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "event_key"], condition=~Q(event_key=""), name="automation_fires_once_per_event"
            ),
            models.UniqueConstraint(
                fields=["rule", "object_type", "object_id", "period_key"],
                condition=~Q(period_key=""),
                name="automation_fires_once_per_period",
            ),
        ]
        indexes = [models.Index(fields=["created"], name="automation_firing_created")]

    def __str__(self) -> str:
        return f"rule {self.rule_id} on {self.object_type} {self.object_id}"


class RuleRun(models.Model):
    """One firing of a rule as the run log shows it: what triggered it, on what, what changed, what failed."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    event = models.CharField(max_length=40)
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    matched = models.BooleanField(default=True)
    # [{"action": type, "label": str, "changes": [{"field", "label", "before", "after"}], "detail": str}]
    changes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(default=0)
    depth = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["rule", "-created", "-id"], name="automation_run_rule_newest"),
            models.Index(fields=["created"], name="automation_run_created"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.object_type} {self.object_id}"
