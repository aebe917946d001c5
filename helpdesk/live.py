"""Live helpdesk updates: after a change commits, the right agents' pages hear about it over the websocket.

Payloads are HTML fragments swapped out of band by the htmx `ws` extension (see customers/live.py for the
parsing rules: table parts first, never mixed with other markup in one message). Three audiences:

* people: toasts, to the workspace (new ticket) or to one agent (assigned to you, the customer replied);
* ticket lists, through the list topic (LIST_TOPIC, which only the list page follows; other pages have no rows
  to swap and would log htmx:oobErrorNoTarget for each push): a new ticket's row goes on top
  (`afterbegin:#ticket-rows`), a changed ticket's row replaces itself by id. Each list decides in the browser
  whether a new row belongs to it (static/js/helpdesk.js compares the row's data-* attributes with the list's filters);
* pages showing the ticket, through its topic group ("ticket.<id>", joined with a signed token, core.realtime):
  an element that makes the page fetch its header and thread again, so each reader gets them rendered for
  their own role (helpdesk.views.tickets.ticket_refresh).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from core.realtime import notify_on_commit, topic_group, user_group, workspace_group

from .models import Ticket, TicketMessage
from .selectors.tickets import ticket_row

ROW_TEMPLATE = "helpdesk/ticket_list.html#ticket-row"
LIST_TOPIC = "tickets"


def ticket_topic(ticket_id: int) -> str:
    """The topic pages showing this ticket follow (views render its token into the page)."""
    return f"ticket.{ticket_id}"


def list_group() -> str:
    return topic_group(LIST_TOPIC)


def _toast(text: str, level: str = "info") -> str:
    toast = render_to_string("components/toast.html", {"text": text, "level": level})
    return f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>'


def _who(user) -> str:
    return user.get_full_name() if user is not None else "Someone"


def _row(ticket_id: int, **context) -> str:
    try:
        ticket = ticket_row(ticket_id=ticket_id)
    except Ticket.DoesNotExist:  # deleted by the transaction that changed it: nothing left to show
        return ""
    return render_to_string(ROW_TEMPLATE, {"ticket": ticket, **context})


def row_inserted_oob(ticket_id: int) -> str:
    """The row on top of every list showing the newest tickets (highlighted for a moment)."""
    row = _row(ticket_id, is_new=True, oob=False)
    return f'<tbody hx-swap-oob="afterbegin:#ticket-rows">{row}</tbody>' if row else ""


def row_replaced_oob(ticket_id: int) -> str:
    return _row(ticket_id, is_new=False, oob="true")


def refresh_oob(ticket: Ticket, *, actor=None) -> str:
    """Makes a page showing the ticket reload its header and thread (see the module docstring)."""
    return format_html(
        '<div id="ticket-refresh" hx-swap-oob="true" hidden hx-get="{}" hx-trigger="load"'
        ' hx-target="#ticket-header-slot" hx-swap="innerHTML" data-by="{}"></div>',
        reverse("tickets:ticket_refresh", args=[ticket.pk]),
        _who(actor),
    )


def _changed(ticket: Ticket, *, actor=None) -> None:
    """Lists replace the row (everyone's, the actor's other tabs too); other readers of the ticket refresh it.
    Rows render when the transaction commits, as committed (assignment, SLA and status steps included)."""
    ticket_id = ticket.pk
    notify_on_commit(list_group(), lambda: row_replaced_oob(ticket_id))
    topic = topic_group(ticket_topic(ticket.pk))
    notify_on_commit(topic, refresh_oob(ticket, actor=actor), exclude_user_id=getattr(actor, "pk", None))


# --- Hooks called by helpdesk.services.tickets ------------------------------------------------------


def ticket_created(ticket: Ticket, *, actor_id: int | None = None) -> None:
    """Sent by the intake (helpdesk.services.intake), once the new ticket is assigned."""
    ticket_id = ticket.pk
    notify_on_commit(list_group(), lambda: row_inserted_oob(ticket_id))
    text = format_html("New ticket #{}: {}", ticket.pk, ticket.subject)
    notify_on_commit(workspace_group(), _toast(text), exclude_user_id=actor_id)


def ticket_changed(ticket: Ticket, *, actor=None, changes: dict | None = None) -> None:
    """Fields, status or merge changed: pages showing the ticket refresh their copy."""
    _changed(ticket, actor=actor)


def ticket_assigned(ticket: Ticket, *, actor=None) -> None:
    _changed(ticket, actor=actor)
    if ticket.assignee_id and ticket.assignee_id != getattr(actor, "pk", None):
        text = format_html("{} assigned you #{}: {}", _who(actor), ticket.pk, ticket.subject)
        notify_on_commit(user_group(ticket.assignee_id), _toast(text))


def message_added(ticket: Ticket, message: TicketMessage, *, actor=None) -> None:
    """An agent replied or noted: other agents on the ticket see it appear."""
    _changed(ticket, actor=actor)


def message_delivery_changed(ticket: Ticket, message: TicketMessage) -> None:
    """The inbox reported how a reply's delivery went: pages showing the ticket refresh its thread."""
    _changed(ticket, actor=None)


def customer_replied(ticket: Ticket, message: TicketMessage) -> None:
    _changed(ticket, actor=None)
    if ticket.assignee_id:
        text = format_html("{} replied on #{}: {}", ticket.requester, ticket.pk, ticket.subject)
        notify_on_commit(user_group(ticket.assignee_id), _toast(text))


# --- Pushed for helpdesk.services (which render no HTML themselves) ---------------------------------

AI_PANEL_REFRESH = "helpdesk/_ai_panel.html#ai-panel-refresh"


def ai_panel_changed(ticket_id: int) -> None:
    """After commit, every page showing the ticket reloads its AI panel (each agent gets their own view of it)."""
    notify_on_commit(topic_group(ticket_topic(ticket_id)), render_to_string(AI_PANEL_REFRESH, {"ticket_id": ticket_id}))


def sla_escalated(ticket: Ticket, *, target: str, breached: bool, minutes_left: int, user_ids: list[int]) -> None:
    """A toast on each recipient's open pages: the ticket's SLA `target` is at risk, or breached."""
    if breached:
        text = format_html("SLA breached on #{}: {} ({} was due)", ticket.pk, ticket.subject, target)
    else:
        text = format_html("SLA at risk on #{}: {} ({} due in {} min)", ticket.pk, ticket.subject, target, minutes_left)
    toast = _toast(text, "danger" if breached else "warning")
    for user_id in user_ids:
        notify_on_commit(user_group(user_id), toast)
