"""HTML fragments announcing customer changes: pushed to teammates' pages over the websocket, reused in HTMX replies.

Every fragment is out-of-band, so the htmx `ws` extension (which swaps each top-level element by its
`hx-swap-oob`) and a normal HTMX response treat it the same way. htmx parses a message inside a <template>,
where table parts may stand alone, with two rules that shape these payloads:

* Table parts come first, and only simple markup (the toast) follows them. The first tag decides how the rest
  is parsed: after a <div> the parser is in "body" mode and silently drops <tbody>/<tr> tags, leaving their
  cells' contents as loose elements; after a <tr> it stays in "table" mode, where a nested <table> (say, a
  whole card with a table in it) is dropped instead. So never mix a row with a table-bearing fragment.
* A new row travels in a <tbody hx-swap-oob="afterbegin:#customer-rows"> wrapper: for that swap style htmx
  inserts the wrapper's children (the row), not the wrapper. A changed row replaces itself by id.

A page without the table (or without that row) has no target: htmx would drop the fragment and log
`htmx:oobErrorNoTarget`, so rows go only to the pages that show the table (those following LIST_TOPIC, see
core.realtime), and toasts, which every page shows, to the whole workspace. The "no customers yet" row is hidden
by CSS once a row precedes it, rather than deleted out of band, so inserts do not log that error on list pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from core.realtime import notify_on_commit, topic_group, workspace_group

from .models import Customer

ROW_TEMPLATE = "customers/customer_list.html#customer-row"
LIST_TOPIC = "customers"


def display_name(user) -> str:
    return user.get_full_name() if user is not None else "Someone"


def toast_oob(text: str, level: str = "info") -> str:
    toast = render_to_string("components/toast.html", {"text": text, "level": level})
    return f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>'


def row_inserted_oob(customer: Customer) -> str:
    """The row goes on top of the table (highlighted for a moment)."""
    row = render_to_string(ROW_TEMPLATE, {"customer": customer, "is_new": True})
    return f'<tbody hx-swap-oob="afterbegin:#customer-rows">{row}</tbody>'


def row_replaced_oob(customer: Customer) -> str:
    return render_to_string(ROW_TEMPLATE, {"customer": customer, "oob": "true"})


def row_removed_oob(customer_id: int) -> str:
    return format_html('<tr id="customer-row-{}" hx-swap-oob="delete"></tr>', customer_id)


# --- What teammates receive: rows for the list pages (table parts only), a toast for every page ---------


@dataclass(frozen=True)
class Announcement:
    rows: str  # for pages following LIST_TOPIC (the customer list); empty when no row changes
    toast: str  # for every page of the workspace


def customer_added(*, customer: Customer, actor) -> Announcement:
    return Announcement(row_inserted_oob(customer), toast_oob(f"{display_name(actor)} added {customer.name}"))


def customer_updated(*, customer: Customer, actor) -> Announcement:
    return Announcement(row_replaced_oob(customer), toast_oob(f"{display_name(actor)} updated {customer.name}"))


def customer_deleted(*, customer_id: int, name: str, actor) -> Announcement:
    return Announcement(row_removed_oob(customer_id), toast_oob(f"{display_name(actor)} deleted {name}"))


def contacts_changed(*, customer: Customer, actor, text: str) -> Announcement:
    """A contact was added, edited or removed: the toast says what, the row shows the new contact count."""
    return Announcement(row_replaced_oob(customer), toast_oob(f"{display_name(actor)} {text}"))


def imported(*, count: int, noun: tuple[str, str], actor) -> Announcement:
    """An import can add thousands of rows: a toast says so rather than pushing them all."""
    word = noun[0] if count == 1 else noun[1]
    return Announcement("", toast_oob(f"{display_name(actor)} imported {count} {word}. Reload to see them."))


def announce_on_commit(announcement: Announcement, *, actor) -> None:
    """Teammates' open pages get it once the transaction commits; the actor already sees the change.

    Without an actor (a requester's first email or form made their contact) the customer lists take the rows but no
    toast interrupts every page: a busy mailbox brings new senders all day."""
    exclude = getattr(actor, "pk", None)
    if announcement.rows:
        notify_on_commit(topic_group(LIST_TOPIC), announcement.rows, exclude_user_id=exclude)
    if actor is not None:
        notify_on_commit(workspace_group(), announcement.toast, exclude_user_id=exclude)


# --- The company page: notes, tasks and health changed by someone else ------------------------------------
# A company page follows its topic (company_topic). What it shows depends on who reads it (edit buttons, forms
# with their CSRF token), so a push carries no panel: it swaps a hidden placeholder of the page (the ids below) for
# an element that makes the page fetch the panel again for its reader (customers.views_live), like a ticket page.

NOTES_REFRESH_ID = "customer-live-notes"
HEALTH_REFRESH_ID = "customer-live-health"


def company_topic(customer_id: int) -> str:
    return f"customers.company.{customer_id}"


def _refresh_oob(element_id: str, url: str, target: str) -> str:
    return format_html(
        '<div id="{}" hx-swap-oob="true" hidden hx-get="{}" hx-trigger="load" hx-target="{}" hx-swap="outerHTML">'
        "</div>",
        element_id,
        url,
        target,
    )


def company_notes_changed(*, customer_id: int, actor, text: str) -> None:
    """After commit, other readers of the company's page reload its notes and tasks (and timeline), with a toast
    saying who did what ("added a note")."""
    url = reverse("customers:customer_live_notes_tasks", args=[customer_id])
    html = _refresh_oob(NOTES_REFRESH_ID, url, "#notes-tasks") + toast_oob(f"{display_name(actor)} {text}")
    notify_on_commit(topic_group(company_topic(customer_id)), html, exclude_user_id=getattr(actor, "pk", None))


def company_health_changed(customer_ids: list[int]) -> None:
    """After commit, readers of these companies' pages reload the health and churn cards: a recompute changed
    them. No toast: nobody did anything, the score moved."""
    for customer_id in customer_ids:
        url = reverse("customers:customer_live_health", args=[customer_id])
        notify_on_commit(
            topic_group(company_topic(customer_id)), _refresh_oob(HEALTH_REFRESH_ID, url, "#customer-health")
        )
