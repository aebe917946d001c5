"""Sales pipelines, their stages, the leads moving through them, each move, the activities planned on a lead, and
the lead list's saved views."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

PROBABILITY_VALIDATORS = [MaxValueValidator(100)]


class Pipeline(models.Model):
    name = models.CharField(max_length=100)
    # The pipeline the board opens on and new leads join; exactly one per workspace once any exists.
    is_default = models.BooleanField(default=False)
    # Archived pipelines leave the board's menu and take no new leads; their leads and history stay.
    archived = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Stage(models.Model):
    Kind = StageKind

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=60)
    order = models.PositiveSmallIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(
        default=0, validators=PROBABILITY_VALIDATORS, help_text="Win probability (%) of a lead in this stage."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OPEN)

    class Meta:
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_pipeline_name"),
        ]

    def __str__(self) -> str:
        return self.name


class LeadSource(models.TextChoices):
    WEBSITE = "website", "Website"
    REFERRAL = "referral", "Referral"
    EVENT = "event", "Event"
    OUTBOUND = "outbound", "Outbound"
    PARTNER = "partner", "Partner"
    SUPPORT = "support", "Support ticket"
    WEB_FORM = "web_form", "Web form"
    OTHER = "other", "Other"


class LeadQuerySet(models.QuerySet):
    def open(self) -> LeadQuerySet:
        return self.filter(stage__kind=StageKind.OPEN)


class Lead(models.Model):
    Source = LeadSource

    title = models.CharField(max_length=200)
    # String references: leads never import customers' models (the facade is the only door).
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    # Who the lead is about before it is a customer (web form, CSV, API): conversion on a win matches these
    # against existing companies and contacts (email, then domain, then name) or creates them.
    company_name = models.CharField(max_length=200, blank=True)
    company_domain = models.CharField(max_length=253, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OTHER)
    # The record the lead came from when its source says so (e.g. the ticket id for "Support ticket").
    source_ref = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_leads"
    )
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    expected_close = models.DateField(null=True, blank=True)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="leads")
    probability = models.PositiveSmallIntegerField(default=0, validators=PROBABILITY_VALIDATORS)
    lost_reason = models.CharField(max_length=200, blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    # Order within the board column: fractional, so a move writes one row (the midpoint of its new neighbours);
    # services.lead_move renumbers the column in one UPDATE on the rare day two neighbours leave no room.
    position = models.FloatField(default=0)
    # Defaults rather than auto_now(_add), so imports and demo data keep their own dates.
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)
    won_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # The board: one column's cards in order, and its keyset pages ("load more").
            models.Index(fields=["stage", "position", "id"], name="lead_stage_position_id"),
            # Each column's count and total value (selectors.stage_summaries) from the index alone.
            models.Index(fields=["stage", "currency"], include=["value"], name="lead_stage_currency_value"),
            # The list's sorts (keyset: sort key + id) and its owner filter.
            models.Index(fields=["updated", "id"], name="lead_updated_id"),
            models.Index(fields=["created", "id"], name="lead_created_id"),
            models.Index(fields=["value", "id"], name="lead_value_id"),
            models.Index(fields=["expected_close", "id"], name="lead_close_id"),
            models.Index(fields=["owner", "updated", "id"], name="lead_owner_updated_id"),
            models.Index(fields=["source", "updated", "id"], name="lead_source_updated_id"),
            # A dashboard's drill-down (the list's won_from/lost_from…): leads won or lost on a range of days.
            models.Index(fields=["won_at", "id"], name="lead_won_at_id", condition=models.Q(won_at__isnull=False)),
            models.Index(fields=["lost_at", "id"], name="lead_lost_at_id", condition=models.Q(lost_at__isnull=False)),
            GinIndex(fields=["tags"], name="lead_tags"),
            GinIndex(name="lead_title_trgm", fields=["title"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.title


class LeadStageChange(models.Model):
    """One move of a lead between stages (its first entry has no `from_stage`): time in stage, win/loss dates."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at", "id"], name="leadstagechange_lead_at")]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage_id} → {self.to_stage_id}"


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    TASK = "task", "Task"


class LeadActivity(models.Model):
    Kind = ActivityKind

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TASK)
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    # Set when the reminder email went out (leads/reminders.py): each reminder is sent once, however often the job runs.
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["done", "due_at", "id"]
        verbose_name_plural = "lead activities"
        indexes = [
            models.Index(fields=["lead", "done", "due_at"], name="leadactivity_lead_done_due"),
            # Reminders still to send, soonest first: the reminder job reads only these.
            models.Index(
                fields=["remind_at"], condition=Q(done=False, reminded_at__isnull=True), name="leadactivity_remind_due"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


# --- Capture: the lead forms a workspace embeds on its own site (leads/capture.py, leads/views_capture.py) ---


def capture_key_new() -> str:
    return "lf_" + secrets.token_urlsafe(18)


class CaptureField(models.TextChoices):
    """The optional fields a capture form may show; name and email are always asked."""

    COMPANY = "company", "Company"
    PHONE = "phone", "Phone"
    MESSAGE = "message", "Message"
    VALUE = "value", "Budget"


def capture_fields_default() -> list[str]:
    return [CaptureField.COMPANY, CaptureField.PHONE, CaptureField.MESSAGE]


class LeadCaptureForm(models.Model):
    """A form visitors fill in on the workspace's own site (embedded in an iframe): each submission is a lead."""

    Field = CaptureField

    name = models.CharField(max_length=100)
    # Names the form in the embed snippet; rotating it breaks the old snippet on purpose (a leaked or abused key).
    public_key = models.CharField(max_length=40, unique=True, default=capture_key_new, editable=False)
    enabled = models.BooleanField(default=True)
    # Origins ("https://www.example.com") whose pages may show the form.
    allowed_origins = models.JSONField(default=list, blank=True)
    # New leads join this stage (an open one); empty: the default pipeline's first open stage.
    stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shown_fields = ArrayField(
        models.CharField(max_length=20, choices=CaptureField.choices), default=capture_fields_default, blank=True
    )
    currency = models.CharField(max_length=3, default="USD")
    thank_you = models.CharField(max_length=300, default="Thank you! We will be in touch shortly.")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class LeadCaptureSubmission(models.Model):
    """One accepted submission: the client's submission id makes a double submit (or a reload) one lead."""

    form = models.ForeignKey(LeadCaptureForm, on_delete=models.CASCADE, related_name="submissions")
    submission_id = models.UUIDField()
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "submission_id"], name="leadcapturesubmission_form_submission"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id}: {self.submission_id}"


class LeadSavedView(models.Model):
    """A named filter and sort of the lead list, personal or shared with the workspace (tickets have the same)."""

    name = models.CharField(max_length=80)
    # The lead list's query parameters (owner, stage, tag, close, sort…), normalised as leads.forms reads them.
    filters = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="lead_views"
    )
    shared = models.BooleanField(default=False, help_text="Everyone in the workspace sees it.")
    position = models.PositiveSmallIntegerField(default=100)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "name", "id"]
        indexes = [models.Index(fields=["owner", "position"], name="leadsavedview_owner_position")]

    def __str__(self) -> str:
        return self.name
