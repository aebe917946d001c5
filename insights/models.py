"""Insights' tables: daily rollups (the only thing metrics read) and the ledger of what each source row added;
the trends the detection jobs found (insights/trends.py) and the alerts sent about them, each at most once.

See insights/rollups.py for the design: one generic counter table keyed by day × metric × dimensions × histogram
bucket, kept by exact per-source deltas, so an incremental history always equals a from-scratch recount.
"""

from __future__ import annotations

from django.conf import settings
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


class Dashboard(models.Model):
    """A custom dashboard: widgets from the catalog (insights/catalog.py) in order. Preset dashboards (per role) are
    not rows: they are layouts in insights/dashboards.py that anyone with insights.view sees, and can copy here."""

    name = models.CharField(max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="insights_dashboards", null=True
    )
    shared = models.BooleanField(default=False, help_text="Everyone who sees insights sees it, not only its owner.")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WidgetSize(models.TextChoices):
    SMALL = "small", "Small (a quarter)"
    MEDIUM = "medium", "Medium (half)"
    LARGE = "large", "Large (full width)"


class DashboardWidget(models.Model):
    """One widget of a custom dashboard: a catalog entry, its size, and filters of its own (they narrow the page's
    filters; an empty value inherits the page's)."""

    Size = WidgetSize

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="widgets")
    key = models.CharField(max_length=40, help_text="A catalog entry (insights/catalog.py).")
    title = models.CharField(max_length=120, blank=True, help_text="Instead of the catalog's title.")
    size = models.CharField(max_length=6, choices=Size.choices, default=Size.SMALL)
    position = models.PositiveIntegerField(default=0)
    filters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["dashboard", "position"], name="insights_widget_order")]

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.title or self.key}"


class ReportFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly (Mondays)"
    MONTHLY = "monthly", "Monthly (on the 1st)"


class ReportFormat(models.TextChoices):
    HTML = "html", "Email with charts"
    PDF = "pdf", "PDF attachment"
    BOTH = "both", "Email with charts and the PDF"


class ReportSchedule(models.Model):
    """A dashboard emailed to chosen people every day, week or month (insights/schedules.py): a preset by name or
    a custom dashboard, never both. `next_due` is the claim: a send moves it on in the same transaction, under a
    row lock, so a period's report goes out once however many workers run the beat task."""

    Frequency = ReportFrequency
    Format = ReportFormat

    name = models.CharField(max_length=120, blank=True, help_text="The email's subject; empty: the dashboard's name.")
    preset = models.CharField(max_length=20, blank=True, help_text="A preset dashboard (insights/dashboards.py).")
    dashboard = models.ForeignKey(
        Dashboard, on_delete=models.CASCADE, null=True, blank=True, related_name="report_schedules"
    )
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    period = models.CharField(
        max_length=12, blank=True, help_text="What each report covers; empty: the day, week or month just ended."
    )
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.HTML)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="insights_report_schedules")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="insights_report_schedules_owned"
    )
    enabled = models.BooleanField(default=True)
    next_due = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, help_text="Why the last attempt failed (retried).")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["next_due", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(preset="") & models.Q(dashboard__isnull=False))
                | (~models.Q(preset="") & models.Q(dashboard__isnull=True)),
                name="insights_schedule_one_dashboard",
            )
        ]
        indexes = [models.Index(fields=["enabled", "next_due"], name="insights_schedule_due")]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} report of {self.dashboard_slug}"

    @property
    def dashboard_slug(self) -> str:
        """What dashboard URLs take: the preset's name or the custom dashboard's id."""
        return self.preset or str(self.dashboard_id)
