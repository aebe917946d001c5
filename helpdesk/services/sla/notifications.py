"""Who hears of an SLA warning or breach, and how: a toast on their open pages now, and a notice through the
notifications service after commit (in the centre, by email, SMS or push as each person chose)."""

from __future__ import annotations

from datetime import datetime

from notifications import facade as notifications

from ... import live
from ...models import Ticket
from .clocks import Target

SLA_WARNING = "sla.warning"
SLA_BREACHED = "sla.breached"
_SAMPLE = {
    "ticket": {
        "id": "42",
        "subject": "Printer on fire",
        "priority": "Urgent",
        "policy": "Standard",
        "assignee": "Ana Agent",
        "team": "Tier 1",
    },
    "sla": {
        "target": "first response",
        "due": "Tue 8 Dec 2026, 14:30",
        "due_time": "14:30",
        "minutes_left": "10",
        "handed_to": "",
    },
}
_FACTS = (
    'Priority: {{ ticket.priority }} · Policy: {{ ticket.policy|default:"none" }}\n'
    'Assignee: {{ ticket.assignee|default:"nobody yet" }} · Team: {{ ticket.team|default:"none" }}'
)


def sla_event_types_register() -> None:
    """The helpdesk's event types (HelpdeskConfig.ready): their default wording ships here."""
    notifications.event_type_register(
        notifications.EventType(
            SLA_WARNING,
            "SLA at risk",
            "A ticket you are assigned to (or whose team you lead) is close to breaching its SLA.",
            default_channels=(notifications.IN_APP, notifications.EMAIL),
            sample_context=_SAMPLE,
            title="[{{ workspace.name }}] SLA at risk: #{{ ticket.id }} {{ ticket.subject }} "
            "({{ sla.target }} due {{ sla.due_time }} UTC)",
            body="Ticket #{{ ticket.id }} “{{ ticket.subject }}” is close to breaching its SLA.\n\n"
            "The {{ sla.target }} is due at {{ sla.due }} UTC ({{ sla.minutes_left }} min from now).\n" + _FACTS,
        )
    )
    notifications.event_type_register(
        notifications.EventType(
            SLA_BREACHED,
            "SLA breached",
            "A ticket you are assigned to (or whose team you lead) breached its SLA.",
            default_channels=(notifications.IN_APP, notifications.EMAIL),
            priority=notifications.HIGH,
            sample_context=_SAMPLE,
            title="[{{ workspace.name }}] SLA breached: #{{ ticket.id }} {{ ticket.subject }} ({{ sla.target }})",
            body="Ticket #{{ ticket.id }} “{{ ticket.subject }}” has breached its SLA.\n\n"
            "The {{ sla.target }} was due at {{ sla.due }} UTC.\n" + _FACTS + "{{ sla.handed_to }}",
        )
    )


def _recipients(ticket: Ticket, handed_to=None) -> list:
    people = [ticket.assignee, ticket.team.lead if ticket.team_id else None, getattr(handed_to, "lead", None)]
    unique = {person.pk: person for person in people if person is not None and person.is_active}
    return list(unique.values())


def _escalation_notify(ticket: Ticket, target: Target, *, breached: bool, now: datetime, handed_to=None) -> None:
    """A toast on the assignee's and team lead's open pages, and a notice to each, after commit."""
    recipients = _recipients(ticket, handed_to)
    if not recipients:
        return
    minutes_left = max(1, round((target.due - now).total_seconds() / 60))
    live.sla_escalated(
        ticket,
        target=target.label,
        breached=breached,
        minutes_left=minutes_left,
        user_ids=[person.pk for person in recipients],
    )
    # Plain values, read now: after commit a breach may have moved the ticket on.
    context = {
        "ticket": {
            "id": str(ticket.pk),
            "subject": ticket.subject,
            "priority": ticket.get_priority_display(),
            "policy": ticket.sla_policy.name if ticket.sla_policy else "",
            "assignee": ticket.assignee.get_full_name() if ticket.assignee else "",
            "team": ticket.team.name if ticket.team_id else "",
        },
        "sla": {
            "target": target.label,
            "due": target.due.strftime("%a %-d %b %Y, %H:%M"),
            "due_time": target.due.strftime("%H:%M"),
            "minutes_left": str(minutes_left),
            "handed_to": (
                f"\nThe policy hands breached tickets to {handed_to.name}: it is now in their queue."
                if handed_to is not None
                else ""
            ),
        },
    }
    kind = SLA_BREACHED if breached else SLA_WARNING
    notifications.notify(
        recipients=[person.pk for person in recipients],
        event=kind,
        context=context,
        link=f"/tickets/{ticket.pk}/",
        dedupe_key=f"{kind}:{ticket.pk}:{target.name}:{target.due.isoformat()}",
    )
