"""Tickets, their threaded messages and attachments, and the history of every change.

A ticket's number is its primary key: every workspace has its own table, hence its own sequence (#1, #2, …).
`version` is bumped by every service write and checked on edits (optimistic locking: no lost update).
The full-text `search_vector` (subject A, description B, messages C) is kept by database triggers (migration
0002) however rows are written, like customers' search_text.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from .teams import Team


class Category(models.Model):
    """What a ticket is about. The description is what the AI classifier compares tickets with (zero-shot)."""

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=300, help_text="A sentence describing such tickets, for the AI.")
    default_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


# Ticket.OPEN_STATUSES, for the partial indexes of Ticket.Meta (which cannot name Ticket yet).
OPEN_STATUSES = ("new", "open", "pending", "on_hold")
CLOCK_RUNNING = ("new", "open")  # the SLA clock stops while a ticket is pending or on hold
# Ticket.Priority's values, lowest first; spelled out here because Ticket's indexes need them before Ticket exists.
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")


def priority_rank() -> Case:
    """Priorities in the order of their choices (low 0 … urgent 3), for sorting. The ticket list's ORDER BY and
    the index serving it must spell this expression identically, so both take it from here."""
    return Case(
        *(When(priority=priority, then=Value(rank)) for rank, priority in enumerate(TICKET_PRIORITIES)),
        output_field=IntegerField(),
    )


# Tickets without an SLA due sort after every real due time (keyset pages cannot seek past NULLs).
# Year 9999 but not its last day: converting to a time zone east of UTC must not overflow Python's datetime.
NO_DUE = datetime(9999, 1, 1, tzinfo=UTC)


def due_sort_key() -> Coalesce:
    """The nearest SLA due, "never" for tickets without one: the ticket list's "due" sort and its index."""
    return Coalesce("sla_due_at", Value(NO_DUE), output_field=models.DateTimeField())


class TicketQuerySet(models.QuerySet):
    def open(self) -> TicketQuerySet:
        return self.filter(status__in=Ticket.OPEN_STATUSES)

    def unassigned(self) -> TicketQuerySet:
        return self.filter(assignee__isnull=True)


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        ON_HOLD = "on_hold", "On hold"
        SOLVED = "solved", "Solved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Type(models.TextChoices):
        QUESTION = "question", "Question"
        INCIDENT = "incident", "Incident"
        PROBLEM = "problem", "Problem"
        TASK = "task", "Task"

    class Channel(models.TextChoices):
        WEB = "web", "Agent (web)"
        EMAIL = "email", "Email"
        HELP_CENTER = "help_center", "Help center form"
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat"
        SMS = "sms", "SMS"
        API = "api", "API"

    class AnalysisStatus(models.TextChoices):
        NONE = "", "Not analysed"
        PENDING = "pending", "Queued"
        DONE = "done", "Done"
        FAILED = "failed", "Failed, will retry"

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
    # SLA clocks stop while the ball is in the customer's court or the ticket waits on a third party.
    PAUSED_STATUSES = (Status.PENDING, Status.ON_HOLD)
    DONE_STATUSES = (Status.SOLVED, Status.CLOSED)

    subject = models.CharField(max_length=200)
    original_description = models.TextField(help_text="As the requester or agent typed it.")
    improved_description = models.TextField(blank=True, help_text="The AI rewrite, once an agent accepted it.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.QUESTION)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.WEB)
    # No single-column index on these four: each leads one of Meta.indexes, which serves the same lookups, and every
    # index is one more write on each ticket insert.
    requester = models.ForeignKey("customers.Contact", on_delete=models.PROTECT, related_name="tickets", db_index=False)
    # The requester's company when the ticket was opened (denormalised: lists filter and sort by it).
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="tickets", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets", db_index=False
    )
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    # People copied on the conversation besides the requester: every public reply is emailed to them too.
    cc = ArrayField(models.EmailField(), default=list, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )

    # AI analysis (helpdesk.ai): what the analysis found, and suggestions the agent can apply or dismiss.
    ai_suggestions = models.JSONField(default=dict, blank=True)
    ai_analysis_date = models.DateTimeField(null=True, blank=True)
    ai_analysis_status = models.CharField(max_length=10, choices=AnalysisStatus.choices, blank=True)
    sentiment = models.CharField(max_length=10, blank=True)
    language = models.CharField(max_length=10, blank=True)

    # SLA (helpdesk.sla): due times in absolute time, computed from the policy's business-hours targets.
    sla_policy = models.ForeignKey("helpdesk.SLAPolicy", null=True, blank=True, on_delete=models.SET_NULL)
    first_response_due = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_breached = models.BooleanField(default=False)
    sla_warned = models.BooleanField(default=False, help_text="The near-breach warning went out.")
    # Kept by helpdesk.services.sla: the nearest open due and when to warn about it (what the sweep looks for),
    # business minutes the clocks stood still (pending / on hold), and the business minutes each target took.
    sla_due_at = models.DateTimeField(null=True, blank=True, help_text="The nearest due time not met yet.")
    sla_warn_at = models.DateTimeField(null=True, blank=True, help_text="When the nearest due becomes near-breach.")
    sla_paused_minutes = models.FloatField(default=0, help_text="Business minutes spent paused so far.")
    sla_first_response_minutes = models.FloatField(null=True, blank=True, help_text="Business minutes to 1st reply.")
    sla_resolution_minutes = models.FloatField(null=True, blank=True, help_text="Business minutes to solve, unpaused.")
    breach_risk = models.FloatField(null=True, blank=True, help_text="Predicted breach probability, 0–1.")

    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_message_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    auto_closed = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1, help_text="Bumped by every change: edits are checked against it.")

    search_vector = SearchVectorField(null=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["created", "id"], name="ticket_created_id"),
            models.Index(fields=["updated", "id"], name="ticket_updated_id"),
            models.Index(fields=["status", "created", "id"], name="ticket_status_created_id"),
            models.Index(fields=["assignee", "status", "created", "id"], name="ticket_assignee_status"),
            models.Index(fields=["team", "status"], name="ticket_team_status"),
            models.Index(fields=["customer", "created"], name="ticket_customer_created"),
            models.Index(fields=["requester", "created"], name="ticket_requester_created"),
            # Customers' timeline: the ids of a company's (a person's) tickets, read from the index alone, and
            # "tickets solved" newest first.
            models.Index(fields=["customer", "id"], name="ticket_customer_id"),
            models.Index(fields=["requester", "id"], name="ticket_requester_id"),
            models.Index(
                fields=["customer", "solved_at", "id"],
                name="ticket_customer_solved",
                condition=Q(solved_at__isnull=False),
            ),
            models.Index(
                fields=["requester", "solved_at", "id"],
                name="ticket_requester_solved",
                condition=Q(solved_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_due"], name="ticket_open_resolution_due", condition=models.Q(solved_at__isnull=True)
            ),
            # The SLA sweep's two questions, every minute: who is due a warning, who has just breached.
            models.Index(fields=["sla_warn_at"], name="ticket_sla_warn_pending", condition=models.Q(sla_warned=False)),
            models.Index(fields=["sla_due_at"], name="ticket_sla_due_pending", condition=models.Q(sla_breached=False)),
            # The ticket list's "priority" and "due" sorts (helpdesk.selectors.tickets), keyset-paginated; unsolved
            # tickets (the queues agents work) have their own small ones, as they are few among years of solved ones.
            models.Index(priority_rank(), "created", "id", name="ticket_prank_created_id"),
            models.Index(due_sort_key(), "id", name="ticket_due_id"),
            models.Index(
                priority_rank(), "created", "id", name="ticket_open_prank", condition=models.Q(status__in=OPEN_STATUSES)
            ),
            models.Index("created", "id", name="ticket_open_created_id", condition=models.Q(status__in=OPEN_STATUSES)),
            # "Breaching soon" (due within the hour or breached, clock running): its count is in every list's rail.
            # Two small indexes that PostgreSQL ORs, instead of reading every new and open ticket (24 → 1 ms at 100k).
            models.Index(fields=["sla_due_at"], name="ticket_running_due", condition=Q(status__in=CLOCK_RUNNING)),
            models.Index(
                fields=["id"], name="ticket_running_breached", condition=Q(status__in=CLOCK_RUNNING, sla_breached=True)
            ),
            # A dashboard's drill-down: the tickets solved, or first answered, on a range of days (ticket list's
            # solved_from/responded_from…). Partial: most tickets of a day are neither yet.
            models.Index(fields=["solved_at", "id"], name="ticket_solved_at_id", condition=Q(solved_at__isnull=False)),
            # Automation's "no reply for 24 business hours": open tickets by the customer's last message.
            models.Index(
                fields=["last_customer_message_at", "id"],
                name="ticket_customer_waiting",
                condition=Q(status__in=OPEN_STATUSES, last_customer_message_at__isnull=False),
            ),
            models.Index(
                fields=["first_responded_at", "id"],
                name="ticket_responded_at_id",
                condition=Q(first_responded_at__isnull=False),
            ),
            GinIndex(fields=["tags"], name="ticket_tags"),
            GinIndex(fields=["search_vector"], name="ticket_search"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> int:
        return self.pk

    @property
    def description(self) -> str:
        return self.improved_description or self.original_description

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


assert tuple(Ticket.Priority.values) == TICKET_PRIORITIES, "priority_rank() must rank every priority"
assert tuple(Ticket.OPEN_STATUSES) == OPEN_STATUSES, "the partial indexes must cover every open status"
assert set(CLOCK_RUNNING) == set(Ticket.OPEN_STATUSES) - set(Ticket.PAUSED_STATUSES), "the breaching indexes' statuses"


class DeliveryStatus(models.TextChoices):
    """Where an outgoing message is on its way to the customer (email, SMS, chat)."""

    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DEFERRED = "deferred", "Deferred, retrying"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Delivery failed (bounced)"
    FAILED = "failed", "Failed"


class TicketMessage(models.Model):
    """One entry of the thread: a public reply (to or from the requester) or an internal note (agents only)."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Public reply"
        NOTE = "note", "Internal note"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.REPLY)
    body = models.TextField()
    # Exactly one author: an agent, or the requester (a contact) writing from the help center or by email.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket_messages"
    )
    author_contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket_messages"
    )
    channel = models.CharField(max_length=12, choices=Ticket.Channel.choices, default=Ticket.Channel.WEB)
    # The Message-ID (email), MessageSid (SMS) or other channel id this entry was received or sent as.
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    # Who a public reply went to when the agent changed the recipients (empty: the requester and the ticket's CCs).
    to = ArrayField(models.EmailField(), default=list, blank=True)
    cc = ArrayField(models.EmailField(), default=list, blank=True)
    bcc = ArrayField(models.EmailField(), default=list, blank=True)
    # Delivery on the ticket's channel, reported back by the inbox (shown on the message in the thread).
    delivery_status = models.CharField(max_length=10, choices=DeliveryStatus.choices, blank=True)
    delivery_detail = models.CharField(max_length=500, blank=True, help_text="The server's answer, as it gave it.")
    delivery_updated = models.DateTimeField(null=True, blank=True)
    ai_run_id = models.BigIntegerField(null=True, blank=True, help_text="The AI draft this reply started from.")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["ticket", "created", "id"], name="message_ticket_created"),
            # Customers' timeline reads public messages of one kind across a company's tickets (helpdesk.facade):
            # these stay small and let PostgreSQL walk the company's tickets instead of every message of the kind.
            models.Index(
                fields=["ticket", "created", "id"],
                name="message_customer_reply",
                condition=Q(kind="reply", author__isnull=True, author_contact__isnull=False),
            ),
            models.Index(
                fields=["ticket", "created", "id"],
                name="message_agent_reply",
                condition=Q(kind="reply", author__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"

    @property
    def from_customer(self) -> bool:
        return self.author_contact_id is not None and self.author_id is None


def attachment_path(attachment: Attachment, filename: str) -> str:
    # The storage (django-tenants' TenantFileSystemStorage) puts every file under the workspace's own folder.
    return f"tickets/{attachment.message.ticket_id}/{attachment.message_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # An inline image of an email's HTML part (`cid:` reference), shown in the body rather than as an attachment.
    content_id = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """The ticket's history: who changed what, when (and what automation or the AI did)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Fields changed"
        ASSIGNED = "assigned", "Assigned"
        STATUS = "status", "Status changed"
        MERGED = "merged", "Merged"
        REPLIED = "replied", "Replied"
        NOTED = "noted", "Internal note"
        CUSTOMER_REPLIED = "customer_replied", "Customer replied"
        AI_ANALYSED = "ai_analysed", "AI analysis"
        AI_SUGGESTION = "ai_suggestion", "AI suggestion applied or dismissed"
        SLA_WARNING = "sla_warning", "SLA breach near"
        SLA_BREACHED = "sla_breached", "SLA breached"
        AUTO_RESPONDED = "auto_responded", "Auto-responded"
        AUTO_CLOSED = "auto_closed", "Auto-closed"
        REOPENED = "reopened", "Reopened"
        CSAT = "csat", "Satisfaction rated"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # {"field": [old, new], …} for changes; whatever explains the event otherwise ("reason", "run_id", …).
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["ticket", "created"], name="event_ticket_created"),
            # Customer health's "SLA breaches in the last 30 days" for a batch of companies: the few breach events
            # of the window, without reading every event of their tickets.
            models.Index(
                fields=["created", "ticket"], name="event_sla_breached_created", condition=Q(kind="sla_breached")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"
