"""Customer companies and the people we talk to there."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Case, F, FloatField, IntegerField, Value, When
from django.db.models.functions import Coalesce, Lower, Upper
from django.utils import timezone

from core.validation import validate_international_email


class CustomerQuerySet(models.QuerySet):
    def matching(self, query: str) -> CustomerQuerySet:
        """Customers whose name or domain, or any of whose contacts' names or e-mail addresses, contain `query`
        in any case."""
        query = query.strip()
        if not query:
            return self
        # Lower-cased by PostgreSQL on both sides, so the folding matches exactly (Python's differs for "İ", "Σ").
        # The pattern folds to a constant at plan time, so the trigram index serves the LIKE.
        return self.filter(search_text__contains=Lower(Value(query)))


class CustomerTier(models.TextChoices):
    FREE = "free", "Free"
    STARTER = "starter", "Starter"
    PROFESSIONAL = "professional", "Professional"
    ENTERPRISE = "enterprise", "Enterprise"


def tier_rank() -> Case:
    """Tiers in the order of their choices (free first), for sorting. The list's ORDER BY and the index that
    serves it must spell this expression identically, so both take it from here."""
    return Case(
        *(When(tier=tier, then=Value(rank)) for rank, tier in enumerate(CustomerTier.values)),
        output_field=IntegerField(),
    )


class HealthBand(models.TextChoices):
    """Where a health score falls (customers/health.py sets the thresholds and says why)."""

    HEALTHY = "healthy", "Healthy"
    AT_RISK = "at_risk", "At risk"
    CRITICAL = "critical", "Critical"
    UNKNOWN = "unknown", "Not enough data"


def health_rank() -> Coalesce:
    """The health score, -1 for companies never scored, for sorting: keyset pages cannot seek past NULLs. The list's
    ORDER BY and the index serving it take this one expression."""
    return Coalesce("health_score", Value(-1), output_field=IntegerField())


def churn_rank() -> Coalesce:
    """The churn risk negated, so an ascending sort puts the riskiest first, and 1 (after every risk) for companies
    without one (churned already, or not scored): keyset pages cannot seek past NULLs."""
    return Coalesce(-F("churn_risk"), Value(1.0), output_field=FloatField())


class Customer(models.Model):
    Tier = CustomerTier
    HealthBand = HealthBand

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="Company web domain, e.g. acme.com")
    industry = models.CharField(max_length=100, blank=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.STARTER)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_customers"
    )
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    # A default rather than auto_now_add, so imports and demo data can keep their own dates.
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)
    # Derived from the customer's contacts, for lists of thousands of customers. Database triggers keep both
    # right (migration 0003) however rows are written: services, admin inlines, bulk imports, test factories.
    # Writing them yourself has no effect: the triggers recompute them.
    # Name, domain and every contact's name and e-mail address, lower-cased, one per line: what the list's search
    # looks in, as one trigram-indexed column of one table.
    search_text = models.TextField(default="", blank=True, editable=False)
    contact_count = models.PositiveIntegerField(default=0, editable=False)
    # The latest health (customers/health.py), copied here so the list sorts and filters on one table; the history
    # is in HealthSnapshot. Empty until first computed (the beat job, or an event on one of its tickets).
    health_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    health_band = models.CharField(max_length=10, choices=HealthBand.choices, blank=True, editable=False)
    health_drivers = models.JSONField(default=list, blank=True, editable=False)
    health_updated = models.DateTimeField(null=True, blank=True, editable=False, help_text="When it last changed.")
    # Churn (customers/churn.py): set by a teammate when the company leaves; the risk is recomputed with the health.
    churned_at = models.DateField(null=True, blank=True, help_text="The day the company stopped being a customer.")
    churn_reason = models.CharField(max_length=200, blank=True)
    churn_risk = models.FloatField(null=True, blank=True, editable=False, help_text="0–1; null until computed.")
    churn_risk_source = models.CharField(
        max_length=60, blank=True, editable=False, help_text='"heuristic" or the model version ("customers.churn v2").'
    )
    churn_drivers = models.JSONField(default=list, blank=True, editable=False)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The database collates bytewise ("C"), so lists sort by lower(name): "acme" next to "Acme", before "Zeta".
            # These serve the keyset pagination of selectors.customer_list (sort key + id).
            models.Index(Lower("name"), "id", name="customer_lname_id"),
            models.Index(fields=["created", "id"], name="customer_created_id"),
            models.Index("tier", Lower("name"), "id", name="customer_tier_lname_id"),
            # Sorting by tier (cheapest first, or dearest first) without sorting every customer.
            models.Index(tier_rank(), Lower("name"), "id", name="customer_tierrank_lname_id"),
            GinIndex(fields=["tags"], name="customer_tags"),
            # The company a new requester's address belongs to (contact_for_email: UPPER(domain) = UPPER(%s)).
            models.Index(Upper("domain"), "id", name="customer_domain_upper_id"),
            GinIndex(name="customer_search_trgm", fields=["search_text"], opclasses=["gin_trgm_ops"]),
            # The list's "health" sort (worst first or best first) and its band filter, keyset-paginated.
            models.Index(health_rank(), Lower("name"), "id", name="customer_hrank_lname_id"),
            # The "churn" sort: riskiest first.
            models.Index(churn_rank(), Lower("name"), "id", name="customer_crank_lname_id"),
            models.Index("health_band", Lower("name"), "id", name="customer_hband_lname_id"),
        ]

    def __str__(self) -> str:
        return self.name


class MailboxFormField(forms.EmailField):
    default_validators = [validate_international_email]


class MailboxField(models.EmailField):
    """An email address whose local part may be non-ASCII (RFC 6531): mail from `jürgen@…` makes a contact too."""

    default_validators = [validate_international_email]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": MailboxFormField, **kwargs})


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = MailboxField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=120, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["customer", "name"], name="contact_customer_name"),
            models.Index(fields=["email"], name="contact_email"),
            # contact_for_email's case-insensitive match (UPPER(email) = UPPER(%s)), first by id: an index walk
            # instead of a scan of every contact on each ticket created by email or API.
            models.Index(Upper("email"), "id", name="contact_email_upper_id"),
            models.Index(Lower("name"), "id", name="contact_lname_id"),
            GinIndex(name="contact_name_trgm", fields=["name"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="contact_email_trgm", fields=["email"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    """A teammate's note on a company, or on one of its people (then it shows on both timelines)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField(help_text="Markdown.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="customer_notes"
    )
    pinned = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pinned", "-created", "-id"]
        indexes = [
            # The timeline's keyset reads: newest first per company or per person.
            models.Index(fields=["customer", "-created", "-id"], name="note_customer_created_id"),
            models.Index(fields=["contact", "-created", "-id"], name="note_contact_created_id"),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Task(models.Model):
    """Something a teammate has to do for a company or one of its people, by a date, with an optional reminder."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tasks")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="customer_tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    reminder_at = models.DateTimeField(null=True, blank=True)
    # Set when the reminder email went out: the beat job sends each reminder once, however often it runs.
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["done", "due_at", "id"]
        indexes = [
            models.Index(fields=["customer", "-created", "-id"], name="task_customer_created_id"),
            models.Index(fields=["contact", "-created", "-id"], name="task_contact_created_id"),
            models.Index(fields=["customer", "-done_at", "-id"], name="task_customer_done_id"),
            models.Index(fields=["contact", "-done_at", "-id"], name="task_contact_done_id"),
            # The reminder sweep reads only reminders still to send.
            models.Index(
                fields=["reminder_at"],
                name="task_reminder_pending",
                condition=models.Q(reminder_sent_at__isnull=True, done=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class HealthSnapshot(models.Model):
    """A company's health on one day: one row per company per day (recomputed the same day, it is updated), kept
    as history for the company page's chart and the API."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="health_snapshots")
    day = models.DateField()
    at = models.DateTimeField(help_text="The moment the score describes.")
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=10, choices=HealthBand.choices)
    drivers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["customer", "day"]
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="healthsnapshot_customer_day")]

    def __str__(self) -> str:
        return f"{self.customer_id} on {self.day}: {self.score}"


class DailySummary(models.Model):
    """What happened at a company on one calendar day of the workspace (customers/digests.py): counts per kind,
    statements each citing the timeline entries they come from, and those entries as numbered sources."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="daily_summaries")
    day = models.DateField()
    counts = models.JSONField(default=list, blank=True, help_text='[{"kind", "label", "count"}], most first.')
    statements = models.JSONField(default=list, blank=True, help_text='[{"text", "sources": [numbers]}].')
    sources = models.JSONField(default=list, blank=True, help_text="The day's entries, numbered from 1.")
    model = models.CharField(max_length=120, blank=True, help_text='"extractive" or the generative model.')
    generated = models.BooleanField(default=False, help_text="Written by a generative model (else extracted).")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["customer", "-day"]
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="dailysummary_customer_day")]

    def __str__(self) -> str:
        return f"{self.customer_id} on {self.day}"


class HealthDigestSent(models.Model):
    """One weekly health digest sent to one account owner: the record that makes the weekly job send it once."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="The Monday of the week the digest is for.")
    sent_at = models.DateTimeField(default=timezone.now)
    companies = models.JSONField(default=list, blank=True, help_text='[{"customer_id", "was", "now"}] as sent.')

    class Meta:
        ordering = ["-week", "owner"]
        constraints = [models.UniqueConstraint(fields=["owner", "week"], name="healthdigestsent_owner_week")]

    def __str__(self) -> str:
        return f"{self.owner_id} for the week of {self.week}"
