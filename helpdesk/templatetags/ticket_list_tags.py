"""The ticket list's row, rendered in Python: a page has 50 of them and every live push is one.

As a template the row cost about 0.4 ms of CPU each (some 40 variable lookups and 50 escapes), two thirds of
the whole page at 100k tickets; this builds the same markup in about a tenth of that. The markup is compact on
purpose (classes only where CSS or JS needs them, no per-row titles, dates to the second): 50 rows weighed
78 KB before. Live pushes (helpdesk/live.py) render it through the `ticket-row` partial too, so a list and a
pushed row can never differ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from django import template
from django.urls import get_urlconf, reverse
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

register = template.Library()
PLACEHOLDER = "987654321"


def ticket_row_data(ticket) -> str:
    """What static/js/helpdesk.js compares with a list's filters before it takes a pushed row. Only pushed rows
    carry it: rows rendered with the page already belong to it."""
    values = (
        ("status", ticket.status),
        ("priority", ticket.priority),
        ("assignee", ticket.assignee_id or ""),
        ("team", ticket.team_id or ""),
        ("category", ticket.category_id or ""),
        ("channel", ticket.channel),
        ("customer", ticket.customer_id),
        ("requester", ticket.requester_id),
        ("tags", " ".join(ticket.tags)),
        ("due-state", ticket.due.state),
    )
    return "".join(f' data-{name}="{escape(value)}"' for name, value in values)


@register.simple_tag
def ticket_row(ticket, is_new: bool = False, oob: str | bool = False) -> SafeString:
    pk = ticket.pk
    href = _detail_url(get_urlconf()).replace(PLACEHOLDER, str(pk))
    classes = "sb-ticket-row sb-row-new" if is_new else "sb-ticket-row"
    swap = f' hx-swap-oob="{escape(oob)}"' if oob else ""
    pushed = ticket_row_data(ticket) if (is_new or oob) else ""
    tags = "".join(f' <span class="badge sb-tag">{escape(tag)}</span>' for tag in ticket.tags)
    assignee = '<span class="sb-none">Unassigned</span>'
    if ticket.assignee_id:
        assignee = escape(ticket.assignee.get_full_name())
    due = ticket.due
    due_cell = f'<span class="sb-due sb-due-{due.state}">{escape(due.text)}</span>' if due.state else "—"
    created = localtime(ticket.created)
    return mark_safe(  # every value above is escaped
        f'<tr id="ticket-row-{pk}" data-testid="ticket-row" class="{classes}"{swap} data-ticket-id="{pk}"{pushed}>'
        f'<td class="sb-bulk-cell"><input class="form-check-input" type="checkbox" name="ids" value="{pk}" '
        f'form="ticket-bulk" aria-label="Select #{pk}" data-row-select></td>'
        f"<td>#{pk}</td>"
        f'<td class="sb-subject"><a href="{href}">{escape(ticket.subject)}</a>{tags}</td>'
        f'<td class="sb-who"><a href="?requester={ticket.requester_id}">{escape(ticket.requester.name)}</a> '
        f'<a href="?customer={ticket.customer_id}">{escape(ticket.customer.name)}</a></td>'
        f'<td><span class="badge sb-status sb-status-{ticket.status}">{ticket.get_status_display()}</span></td>'
        f'<td><span class="badge sb-priority sb-priority-{ticket.priority}">{ticket.get_priority_display()}</span></td>'
        f"<td>{assignee}</td><td>{due_cell}</td>"
        f'<td><time datetime="{_minute(ticket.updated)}">{ticket.updated_ago}</time></td>'
        f'<td><time datetime="{_minute(ticket.created)}">{date_format(created, "M j")}</time></td></tr>'
    )


@lru_cache(maxsize=8)
def _detail_url(_urlconf) -> str:
    """A ticket's detail URL with a placeholder for its number, reversed once per URLconf (a reverse() per row
    cost a quarter of the row)."""
    return reverse("tickets:ticket_detail", args=[PLACEHOLDER])


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
