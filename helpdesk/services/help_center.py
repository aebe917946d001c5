"""The public help center's writes: requests from the form (ticket + acknowledgement) and the requester's link.

The request status link carries a signed token, not the ticket number: it names the ticket and its requester,
is signed with the site's secret and salted with the workspace's schema, so it cannot be guessed, edited to
reach another ticket, or replayed in another workspace whose ticket happens to have the same number. It is
stamped when made and expires HELP_CENTER_LINK_MAX_AGE_DAYS later, and dies with its ticket (deleted, or merged
into another one), so a leaked link does not open a ticket for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.urls import reverse

from core.links import workspace_url

from ..emails import send_after_commit
from ..models import Ticket, TicketMessage
from ..selectors.help_center import help_center_title
from . import tickets

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


def request_from_token(token: str) -> Ticket | None:
    """The ticket of a status link that still works, else None."""
    return request_link_open(token).ticket


def request_status_url(ticket: Ticket) -> str:
    return workspace_url(reverse("help_center:request_status", args=[request_token(ticket)]))


@transaction.atomic
def help_request_submit(
    *,
    name: str,
    email: str,
    subject: str,
    description: str,
    attachments: Sequence[UploadedFile] = (),
) -> Ticket:
    """A ticket from the help-center form; the requester gets an email with its number and status link."""
    ticket = tickets.ticket_create(
        subject=subject,
        description=description,
        requester_email=email,
        requester_name=name,
        channel=Ticket.Channel.HELP_CENTER,
        attachments=attachments,
    )
    context = {
        "ticket": ticket,
        "name": ticket.requester.name,
        "help_title": help_center_title(),
        "status_url": request_status_url(ticket),
    }
    send_after_commit("helpdesk/email/ticket_received", to=ticket.requester.email, context=context)
    return ticket


def help_request_reply(*, ticket: Ticket, body: str, attachments: Sequence[UploadedFile] = ()) -> TicketMessage:
    """The requester answers from the status page: a public message, which reopens a pending or solved ticket."""
    return tickets.customer_message_add(
        ticket=ticket,
        body=body,
        contact=ticket.requester,
        channel=Ticket.Channel.HELP_CENTER,
        attachments=attachments,
    )
