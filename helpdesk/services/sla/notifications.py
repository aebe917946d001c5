"""Who hears of an SLA warning or breach, and how: a toast on their open pages and an email after commit."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from core.links import workspace_url
from core.realtime import notify_on_commit, user_group

from ...models import Ticket
from .clocks import Target

logger = logging.getLogger("helpdesk.services.sla")


def _recipients(ticket: Ticket, handed_to=None) -> list:
    people = [ticket.assignee, ticket.team.lead if ticket.team_id else None, getattr(handed_to, "lead", None)]
    unique = {person.pk: person for person in people if person is not None and person.is_active}
    return list(unique.values())


def _escalation_notify(ticket: Ticket, target: Target, *, breached: bool, now: datetime, handed_to=None) -> None:
    """A toast on the assignee's and team lead's open pages, and an email to each, after commit."""
    recipients = _recipients(ticket, handed_to)
    if not recipients:
        return
    if breached:
        text = format_html("SLA breached on #{}: {} ({} was due)", ticket.pk, ticket.subject, target.label)
    else:
        minutes = max(1, round((target.due - now).total_seconds() / 60))
        text = format_html(
            "SLA at risk on #{}: {} ({} due in {} min)", ticket.pk, ticket.subject, target.label, minutes
        )
    toast = render_to_string("components/toast.html", {"text": text, "level": "danger" if breached else "warning"})
    for person in recipients:
        notify_on_commit(user_group(person.pk), f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>')
    # Plain values, read now: the email renders after commit, when a breach may have moved the ticket on.
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
    addresses = [person.email for person in recipients]
    transaction.on_commit(lambda: _email_send(prefix, addresses, context))


def _email_send(prefix: str, addresses: list[str], context: dict[str, Any]) -> None:
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    body = render_to_string(f"{prefix}_message.txt", context)
    try:
        EmailMessage(subject, body, to=addresses).send()
    except Exception:  # a mail server hiccup must not undo the sweep; the toast and the event went out
        logger.exception("could not email the SLA notice for ticket #%s", context["ticket_number"])


def _ticket_url(ticket: Ticket) -> str:
    try:
        path = reverse("tickets:ticket_detail", kwargs={"ticket_id": ticket.pk})
    except NoReverseMatch:
        return ""
    return workspace_url(path)
