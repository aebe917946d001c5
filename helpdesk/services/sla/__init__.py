"""SLA clocks of tickets: which policy applies, due times in business hours, pauses, warnings, breaches, risk.

`ticket_sla_refresh` is called by every ticket write that can move a clock (helpdesk/services/tickets.py), inside
the writing transaction; it saves only SLA fields and does not bump `Ticket.version` (an agent's open editor is
not made stale by a clock). `sla_sweep` runs every minute (helpdesk/tasks/sla.py) and sends the near-breach
warnings and breach escalations, each exactly once (the `sla_warned` / `sla_breached` flags, rows locked with
SKIP LOCKED so overlapping sweeps never handle the same ticket).

Clock rules:
- First response: from creation, until the first public agent reply. Resolution: from creation until solved.
  Next response: from the oldest customer message the agents have not answered yet, until the next agent reply.
- Pending / on hold pause every clock; on resume the open due times move by the paused business time
  (`sla_paused_minutes` adds it up, so dues are `created + target + paused` and can always be recomputed).
- Solved / closed stop the clocks and record how many business minutes each target took. The clock stays
  stopped while solved, so a reopened ticket resumes where it stopped.
- A target met late, found when it is met (between two sweeps), is recorded as a breach without escalation.
"""

from __future__ import annotations

from ...sla_risk import SLARisk
from .backfill import BackfillResult, sla_backfill
from .calendars import business_calendar_default, sla_calendar_for
from .clocks import Target, open_targets, ticket_sla_refresh
from .risk import sla_risk_model_train, sla_risk_refresh_open, ticket_sla_risk_assess
from .sweep import SweepResult, sla_sweep

__all__ = [
    "BackfillResult",
    "SLARisk",
    "SweepResult",
    "Target",
    "business_calendar_default",
    "open_targets",
    "sla_backfill",
    "sla_calendar_for",
    "sla_risk_model_train",
    "sla_risk_refresh_open",
    "sla_sweep",
    "ticket_sla_refresh",
    "ticket_sla_risk_assess",
]
