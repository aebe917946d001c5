"""What the public help center reads besides articles: its title, a request's public thread, its status wording.

The thread holds public replies only. Internal notes never leave this selector, whatever the page does.
"""

from __future__ import annotations

from django.db import connection

from ..models import HelpdeskSettings, Ticket, TicketMessage

# How a requester reads a status: they do not care whether an agent has picked the ticket up yet.
PUBLIC_STATUS = {
    Ticket.Status.NEW: ("Open", "We have your request and will answer soon."),
    Ticket.Status.OPEN: ("Open", "We are working on your request."),
    Ticket.Status.PENDING: ("Awaiting your reply", "We asked you something: reply below to continue."),
    Ticket.Status.ON_HOLD: ("Open", "We are waiting on a third party and will update you."),
    Ticket.Status.SOLVED: ("Solved", "We believe this is solved. Reply below if it is not, and we will reopen it."),
    Ticket.Status.CLOSED: ("Closed", "This request is closed. Please open a new one if you need more help."),
}


def help_center_title(settings: HelpdeskSettings | None = None) -> str:
    settings = settings or HelpdeskSettings.current()
    if settings.help_center_title:
        return settings.help_center_title
    name = getattr(getattr(connection, "tenant", None), "name", "") or "Switchboard"
    return f"{name} Help Center"


def request_thread(*, ticket: Ticket) -> list[TicketMessage]:
    """The conversation the requester may see: public replies (theirs and the agents'), oldest first."""
    messages = ticket.messages.filter(kind=TicketMessage.Kind.REPLY).select_related("author", "author_contact")
    return list(messages.prefetch_related("attachments").order_by("created", "id"))


def request_public_status(ticket: Ticket) -> tuple[str, str]:
    return PUBLIC_STATUS.get(ticket.status, ("Open", ""))
