"""What other apps receive from the helpdesk: frozen descriptions of tickets and of the public messages a
customer must get on the ticket's channel, and the signal that hands those messages over.

The inbox connects to `outgoing_message` and delivers by email, chat or SMS; the helpdesk never imports it. The
signal is sent after the transaction that wrote the message commits, so a receiver never sees an uncommitted row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.dispatch import Signal

# Sent with `message=OutgoingMessage(...)`, after commit, for every public message the customer should receive.
outgoing_message = Signal()


@dataclass(frozen=True)
class TicketSummary:
    id: int
    subject: str
    status: str
    channel: str
    requester_contact_id: int
    requester_email: str
    requester_name: str
    customer_id: int
    cc: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttachmentRef:
    id: int
    filename: str
    content_type: str
    size: int
    content_id: str = ""  # set for an inline image of an HTML body (`cid:`)


@dataclass(frozen=True)
class InboundAttachment:
    """A file that came with a customer's message, before the upload allow-list has seen it."""

    filename: str
    content_type: str
    content: bytes | IO[bytes]  # a big file: an open file (read in chunks when stored), not bytes
    content_id: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    """A public message to deliver to the customer: an agent's reply, or an email the helpdesk sends itself.

    `kind` is "reply" (an agent's public reply; `message_id` is its thread entry), or "acknowledgement", "csat",
    "auto_response" (emails about the ticket; `message_id` is the thread entry when there is one). `body` is
    Markdown as the agent wrote it. `to`/`cc`/`bcc` empty means the requester and the ticket's CCs.
    """

    ticket_id: int
    kind: str
    channel: str
    subject: str
    body: str
    message_id: int | None = None
    author_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    attachments: tuple[AttachmentRef, ...] = field(default=())


@dataclass(frozen=True)
class ReceivedMessage:
    """Where an incoming message landed: a new ticket, or a new entry on an existing one."""

    ticket_id: int
    message_id: int | None
    created_ticket: bool


# --- chat ---


@dataclass(frozen=True)
class ArticleSuggestion:
    """A public help-center article offered to a visitor for what they typed (the chat widget's deflection)."""

    id: int
    title: str
    path: str  # the article's page on the workspace's help center, e.g. "/help/articles/reset-password/"
    excerpt: str


@dataclass(frozen=True)
class ThreadEntry:
    """One public message of a ticket as the customer sees it: `author` is "customer" or "agent"."""

    id: int
    author: str
    name: str
    body: str
    created: str  # ISO 8601


# --- webhooks ---
# Sent with `event=TicketEventPayload(...)`, after the transaction that made the change commits, for what outbound
# webhooks report. The helpdesk sends it whether anyone listens or not; the inbox decides who is told.
ticket_event = Signal()
# Asked with `event=<name>` before a payload is built (that costs queries): a receiver of `ticket_event` connects here
# too and answers True when it wants that event now. With no True answer, nothing is built nor sent.
ticket_event_wanted = Signal()

TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
TICKET_SOLVED = "ticket.solved"
MESSAGE_CREATED = "message.created"
SLA_BREACHED = "sla.breached"
# Sent when a ticket passes its SLA warning point (automation rules listen; not offered to webhooks yet).
SLA_WARNING = "sla.warning"
CSAT_RECEIVED = "csat.received"
TICKET_EVENTS = (TICKET_CREATED, TICKET_UPDATED, TICKET_SOLVED, MESSAGE_CREATED, SLA_BREACHED, CSAT_RECEIVED)


@dataclass(frozen=True)
class TicketEventPayload:
    """Something that happened to a ticket, as JSON-able data shaped like the REST API's (`ticket` is the API's
    Ticket, `message` its TicketMessage for message events; only public messages are sent). `data` says more
    about the event: the changes of an update, the SLA target breached, the CSAT rating and comment."""

    event: str
    ticket_id: int
    occurred_at: datetime
    ticket: dict[str, Any]
    message: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Who made the change (None: the customer, a rule or the system); not part of the webhook body.
    actor_id: int | None = None


# --- customer health ---
# What customers' health job reads about many companies at once (helpdesk/facade/health.py).


@dataclass(frozen=True)
class TicketVolume:
    """A company's tickets in the recent window and in the baseline window just before it."""

    recent: int
    baseline: int


@dataclass(frozen=True)
class SentimentCounts:
    """A company's AI-analysed tickets by the customer's tone, in the recent window and in the baseline before it."""

    recent_positive: int = 0
    recent_neutral: int = 0
    recent_negative: int = 0
    baseline_positive: int = 0
    baseline_neutral: int = 0
    baseline_negative: int = 0


@dataclass(frozen=True)
class CsatSummary:
    """A company's answered satisfaction surveys in a window: how many, and their mean rating (1–5)."""

    answers: int
    average: float


@dataclass(frozen=True)
class TicketPoint:
    """A ticket as trend detection sees it (helpdesk.facade.ticket_points): when, whose, about what."""

    id: int
    created: datetime
    customer_id: int
    subject: str
    sentiment: str = ""


@dataclass(frozen=True)
class TicketMention:
    """A recent ticket whose customer's words matched a pattern (e.g. cancellation language)."""

    id: int
    customer_id: int
    subject: str
    created: datetime
    phrase: str


# --- insights ---
# Sent with `ids=(ticket id, …)` inside the writer's transaction when a ticket, or its CSAT answer, changes something
# insights counts (core.changes); insights queues its rollup upkeep on the outbox, so it commits with the change.
tickets_changed = Signal()


@dataclass(frozen=True)
class TicketRollupFact:
    """What insights' rollups count of one ticket, as it is now (helpdesk.facade.ticket_rollup_facts)."""

    id: int
    created: datetime
    status: str
    priority: str
    channel: str
    category_id: int | None
    team_id: int | None
    assignee_id: int | None
    customer_tier: str
    sla_tracked: bool  # an SLA policy applies
    sla_breached: bool
    first_responded_at: datetime | None
    solved_at: datetime | None
    csat_rating: int | None = None
    csat_answered_at: datetime | None = None


@dataclass(frozen=True)
class TicketDimensions:
    """Names of what tickets are counted by (insights' filters and chart labels): id → name for agents, teams and
    categories; value → label for channels and priorities, in their menu order."""

    agents: dict[int, str]
    teams: dict[int, str]
    categories: dict[int, str]
    channels: dict[str, str]
    priorities: dict[str, str]


# --- ticket actions ---
# What macros (helpdesk) and automation rules apply to a ticket through helpdesk.facade.ticket_actions_apply, and
# the menus their builders offer (helpdesk.facade.ticket_action_specs). See helpdesk/facade/actions.py.

TICKET_ACTION_VALUE_KINDS = ("choice", "user", "team", "tags", "text", "none")


@dataclass(frozen=True)
class TicketActionSpec:
    """One action a builder may offer: its `type` ("set_status", "assign_team", …), a label for the menu, the kind
    of value it takes ("choice"|"user"|"team"|"tags"|"text"|"none") and, for choices, users and teams, the
    workspace's current (value, label) pairs (values are strings: ids for users, teams and categories; tags are
    suggestions, any tag is accepted)."""

    type: str
    label: str
    value_kind: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TicketFieldChange:
    """One field an apply changed (or, in a dry run, would change): `field` is "status", "priority", "type",
    "category", "team", "assignee" or "tags"; `before` and `after` are what a person reads ("Pending", "Ann Lee",
    tags joined by ", "; "" for none)."""

    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class TicketActionResult:
    """What applying a list of actions changed on one ticket (or would change, in a dry run)."""

    ticket_id: int
    changes: tuple[TicketFieldChange, ...]
    note_added: bool
