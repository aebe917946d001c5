"""What other apps exchange with leads: a lead's summary and the blocks they add to the lead page and to the pipeline
metrics page.

Frozen dataclasses and nothing else of leads: an app that reads a lead or adds a block imports this module (and
`leads.facade`), never leads' models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.dispatch import Signal


@dataclass(frozen=True)
class LeadSummary:
    id: int
    title: str
    customer_id: int | None
    contact_id: int | None
    owner_id: int | None
    value: Decimal
    currency: str
    status: str  # "open", "won" or "lost"
    created: datetime | None = None
    closed_at: datetime | None = None  # when it was won or lost
    lost_reason: str = ""


@dataclass(frozen=True)
class LeadNote:
    """One logged activity of a lead (a call, an email, a meeting, a task) with its notes: the lead's history."""

    kind: str  # "call", "email", "meeting" or "task"
    kind_label: str
    subject: str
    notes: str
    done: bool
    created: datetime


@dataclass(frozen=True)
class LeadPanel:
    """A block another app adds to the lead page (e.g. the lead's quotes, with "New quote").

    `context(lead_id, user)` returns the template's context, or None to show nothing to this user; it runs a fixed
    number of queries. `template` is the app's own partial, rendered with that context as `panel`.
    """

    name: str
    template: str
    context: Callable[[int, Any], Mapping[str, object] | None]


@dataclass(frozen=True)
class PipelineMetricCard:
    """A card another app adds to the pipeline metrics page (e.g. quotes' cycle time and win rate).

    `context(pipeline_id, days, user)` returns the template's context for the period the page shows (the last
    `days`), or None to show nothing to this user; it runs a fixed number of queries. `template` is the app's own
    partial, rendered with that context as `panel`.
    """

    name: str
    template: str
    context: Callable[[int, int, Any], Mapping[str, object] | None]


# --- insights ---
# Sent with `ids=(lead id, …)` inside the writer's transaction when a lead changes something insights counts.
leads_changed = Signal()


@dataclass(frozen=True)
class LeadRollupFact:
    """What insights' rollups count of one lead, as it is now (leads.facade.lead_rollup_facts)."""

    id: int
    created: datetime
    owner_id: int | None
    source: str
    currency: str
    value_cents: int
    stage_kind: str  # open, won or lost
    won_at: datetime | None
    lost_at: datetime | None


# --- automation ---
# Sent after the change commits with `event` (one of AUTOMATION_EVENTS), `object_id` (the lead's id) and
# `changed` (the names of the fields that changed): automation rules listen (automation.receivers).
automation_event = Signal()
LEAD_STAGE_CHANGED = "lead.stage_changed"
AUTOMATION_EVENTS = (LEAD_STAGE_CHANGED,)
