"""The template library: common rules an admin starts from (the editor opens pre-filled, nothing is saved yet)."""

from __future__ import annotations

from typing import Any

RULE_TEMPLATES: dict[str, dict[str, Any]] = {
    "auto_close_solved": {
        "name": "Close solved tickets after 4 days",
        "description": "A solved ticket nobody reopened is closed four days later.",
        "trigger": "ticket.time",
        "timer": {"anchor": "solved", "amount": 4, "unit": "days"},
        "conditions": {"all": [{"field": "status", "op": "is", "value": "solved"}], "any": []},
        "actions": [{"type": "set_status", "value": "closed"}],
    },
    "escalate_urgent_unassigned": {
        "name": "Escalate urgent tickets unassigned for 30 minutes",
        "description": "Hands an urgent ticket nobody took to its team lead and drafts a reply for them.",
        "trigger": "ticket.time",
        "timer": {"anchor": "created", "amount": 30, "unit": "minutes"},
        "conditions": {
            "all": [
                {"field": "priority", "op": "is", "value": "urgent"},
                {"field": "assignee", "op": "is_empty", "value": ""},
            ],
            "any": [],
        },
        "actions": [{"type": "assign_team_lead"}, {"type": "ai_draft_reply"}],
    },
    "tag_vip": {
        "name": "Tag tickets of enterprise customers as VIP",
        "description": "New tickets from enterprise customers get the “vip” tag and high priority.",
        "trigger": "ticket.created",
        "timer": {},
        "conditions": {"all": [{"field": "customer_tier", "op": "is", "value": "enterprise"}], "any": []},
        "actions": [{"type": "add_tags", "value": ["vip"]}, {"type": "set_priority", "value": "high"}],
    },
    "route_by_language": {
        "name": "Route German tickets to the German team",
        "description": "The AI's language detection decides; pick the team in the action.",
        "trigger": "ticket.created",
        "timer": {},
        "conditions": {"all": [{"field": "language", "op": "is", "value": "de"}], "any": []},
        "actions": [{"type": "add_tags", "value": ["german"]}],
    },
    "pending_reminder": {
        "name": "Pending for 3 days: remind the customer",
        "description": "A ticket waiting on the customer for three days gets a friendly reminder.",
        "trigger": "ticket.time",
        "timer": {"anchor": "updated", "amount": 3, "unit": "days"},
        "conditions": {"all": [{"field": "status", "op": "is", "value": "pending"}], "any": []},
        "actions": [
            {
                "type": "send_email",
                "value": {
                    "to": "{{ ticket.requester.email }}",
                    "subject": "Re: {{ ticket.subject }}",
                    "body": 'Hello {{ ticket.requester.first_name|default:"there" }},\n\nWe are still waiting for '
                    "your answer on “{{ ticket.subject }}”. Just reply to this email.\n\n{{ workspace.name }}",
                },
            }
        ],
    },
    "no_reply_24_business_hours": {
        "name": "No reply for 24 business hours: raise priority",
        "description": "A customer waiting 24 business hours for an answer gets high priority and a tag.",
        "trigger": "ticket.time",
        "timer": {"anchor": "customer_waiting", "amount": 24, "unit": "business_hours"},
        "conditions": {"all": [], "any": []},
        "actions": [{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["waiting-24h"]}],
    },
}
