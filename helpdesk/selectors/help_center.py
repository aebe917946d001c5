"""What the public help center reads besides articles: its title, a request's public thread, its status wording.

The thread holds public replies only. Internal notes never leave this selector, whatever the page does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection

from ..models import HelpdeskSettings, Ticket, TicketMessage
from .config import helpdesk_settings_get

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
    settings = settings or helpdesk_settings_get()
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


# --- Request status links ----------------------------------------------------------------------------

TOKEN_SALT = "helpdesk.request-status"


def _salt() -> str:
    return f"{TOKEN_SALT}:{connection.schema_name}"


@dataclass(frozen=True)
class RequestLink:
    """What a status link opens: its ticket, or why not ("invalid", "expired", "merged") and which request it was."""

    ticket: Ticket | None
    refused: str = ""
    number: int | None = None


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_salt())


def request_token(ticket: Ticket) -> str:
    """A token stamped now: the link it makes works for HELP_CENTER_LINK_MAX_AGE_DAYS."""
    return _signer().sign_object([ticket.pk, ticket.requester_id])


def request_link_open(token: str) -> RequestLink:
    """The ticket a status link names; refused when forged, truncated, from another workspace, for a deleted
    ticket ("invalid"), too old ("expired") or for a ticket merged into another one ("merged")."""
    max_age = timedelta(days=settings.HELP_CENTER_LINK_MAX_AGE_DAYS)
    expired = False
    try:
        payload = _signer().unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        payload, expired = _signer().unsign_object(token), True  # genuine, only too old
    except (signing.BadSignature, ValueError, TypeError):
        return RequestLink(ticket=None, refused="invalid")
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(part, int) for part in payload)):
        return RequestLink(ticket=None, refused="invalid")
    ticket_id, requester_id = payload
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id, requester_id=requester_id).first()
    if ticket is None:
        return RequestLink(ticket=None, refused="invalid")
    if expired:
        return RequestLink(ticket=None, refused="expired", number=ticket.pk)
    if ticket.merged_into_id is not None:
        return RequestLink(ticket=None, refused="merged", number=ticket.pk)
    return RequestLink(ticket=ticket)


def help_request_get_by_token(token: str) -> Ticket | None:
    """The ticket of a status link that still works, else None."""
    return request_link_open(token).ticket
