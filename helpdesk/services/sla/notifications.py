"""Who hears of an SLA warning or breach, and how: a toast on their open pages and an email after commit."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.urls import NoReverseMatch, reverse

from core.links import workspace_url

from ... import live
from ...emails import send_after_commit
from ...models import Ticket
from .clocks import Target


def _recipients(ticket: Ticket, handed_to=None) -> list:
    people = [ticket.assignee, ticket.team.lead if ticket.team_id else None, getattr(handed_to, "lead", None)]
    unique = {person.pk: person for person in people if person is not None and person.is_active}
    return list(unique.values())


def _escalation_notify(ticket: Ticket, target: Target, *, breached: bool, now: datetime, handed_to=None) -> None:
    """A toast on the assignee's and team lead's open pages, and an email to each, after commit."""
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
        "ticket_number": ticket.pk,
        "subject": ticket.subject,
        "priority": ticket.get_priority_display(),
        "policy": ticket.sla_policy.name if ticket.sla_policy else "",
        "assignee": ticket.assignee.get_full_name() if ticket.assignee else "",
        "team": ticket.team.name if ticket.team_id else "",
        "handed_to": handed_to.name if handed_to is not None else "",
        "target": target.label,
        "due": target.due,
        "url": _ticket_url(ticket),
        "workspace": getattr(getattr(connection, "tenant", None), "name", "Switchboard"),
    }
    prefix = "helpdesk/email/sla_breached" if breached else "helpdesk/email/sla_warning"
    send_after_commit(prefix, to=[person.email for person in recipients], context=context)


def _ticket_url(ticket: Ticket) -> str:
    try:
        path = reverse("tickets:ticket_detail", kwargs={"ticket_id": ticket.pk})
    except NoReverseMatch:
        return ""
    return workspace_url(path)
