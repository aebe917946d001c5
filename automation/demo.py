"""Demo automation: a few useful rules from the template library, enabled, with run logs made by the production
engine (one time-rule pass, and the "tag VIP" rule run on the newest enterprise tickets as their creation would).
Idempotent: nothing is added once the workspace has rules."""

from __future__ import annotations

import copy

from helpdesk.facade import automation as helpdesk_automation

from . import services, timers
from .engine import Event, event_process
from .library import RULE_TEMPLATES
from .models import Rule

DEMO_RULES = ("escalate_urgent_unassigned", "tag_vip", "auto_close_solved", "no_reply_24_business_hours")
VIP_SAMPLE = 40  # newest tickets the VIP rule is run on


def seed_automation(*, admin) -> str:
    if Rule.objects.exists():
        return "automation rules already there"
    for key in DEMO_RULES:
        services.rule_create(data=copy.deepcopy(RULE_TEMPLATES[key]), actor=admin, enabled=True)
    passed = timers.time_rules_check()
    vip = 0
    values = helpdesk_automation.ticket_automation_values(helpdesk_automation.tickets_recent_ids(limit=VIP_SAMPLE))
    for ticket_id, record in values.items():
        if record["customer_tier"] == "enterprise":
            vip += len(event_process(Event("ticket.created", "ticket", ticket_id)))
    return f"{len(DEMO_RULES)} automation rules ({passed.fired} time-rule firings, {vip} VIP tags)"
