"""Insights' tables: daily rollups (the only thing metrics read) and the ledger of what each source row added.

See insights/rollups.py for the design: one generic counter table keyed by day × metric × dimensions × histogram
bucket, kept by exact per-source deltas, so an incremental history always equals a from-scratch recount.
"""

from __future__ import annotations

from django.db import models

# Dimension columns, in the order of the unique key after (metric, day). Sentinels instead of NULL (0, ""), so that
# ON CONFLICT sees one row per key. The generic names fit tickets; other sources reuse them (insights/rollups.py).
DIMENSIONS = ("team_id", "agent_id", "category_id", "channel", "priority", "tier", "label", "bucket")
NO_BUCKET = -1
# Each counter is kept at several grains: "detail" keeps every dimension; "all" none; the others one dimension each
# (and the bucket). A query reads the coarsest grain that has the dimensions it filters and groups by: at 100k tickets
# a year, "detail" has about one row per ticket and event, "all" a few dozen a day (insights/rollups.py).
GRAINS: dict[str, tuple[str, ...]] = {
    "all": (),
    "team": ("team_id",),
    "agent": ("agent_id",),
    "category": ("category_id",),
    "channel": ("channel",),
    "priority": ("priority",),
    "tier": ("tier",),
    "label": ("label",),
    "detail": DIMENSIONS[:-1],
}


class DailyRollup(models.Model):
    """One counter: how many `metric` events fell on `day` for this combination of dimensions, and the sum of
    their measure (`total`: seconds, cents, micro-dollars, a rating; always an integer, so sums are exact)."""

    grain = models.CharField(max_length=10, default="detail", help_text="Which dimensions this row keeps (GRAINS).")
    day = models.DateField()
    metric = models.CharField(max_length=24)
    team_id = models.IntegerField(default=0)
    agent_id = models.IntegerField(default=0, help_text="Ticket assignee, lead or quote owner.")
    category_id = models.IntegerField(default=0)
    channel = models.CharField(
        max_length=30, blank=True, default="", help_text="Ticket channel, lead source, AI provider."
    )
    priority = models.CharField(max_length=10, blank=True, default="")
    tier = models.CharField(max_length=20, blank=True, default="", help_text="The customer's tier.")
    label = models.CharField(max_length=80, blank=True, default="", help_text="Currency (leads, quotes), AI feature.")
    bucket = models.SmallIntegerField(default=NO_BUCKET, help_text="Log-scale duration bucket, CSAT rating; -1: none.")
    count = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index every metric query uses: grain and metric, then a day range.
            models.UniqueConstraint(fields=["grain", "metric", "day", *DIMENSIONS], name="insights_rollup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.day}: {self.count}"


class RollupSource(models.Model):
    """What one source row (a ticket, lead, quote or AI run) currently adds to the rollups: the ledger an event's
    delta is computed against (new contributions minus these), so a change of team or status moves counts exactly."""

    kind = models.CharField(max_length=10)
    source_id = models.BigIntegerField()
    # [[day, metric, team_id, agent_id, category_id, channel, priority, tier, label, bucket, count, total], ...]
    contributions = models.JSONField(default=list, blank=True)
    last_day = models.DateField(null=True, blank=True, help_text="The latest day it counts on (repair windows).")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "source_id"], name="insights_rollup_source_key")]
        indexes = [models.Index(fields=["kind", "last_day"], name="insights_source_last_day")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.source_id}"
