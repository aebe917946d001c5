"""The public help center's writes: requests from the form (ticket + acknowledgement) and the requester's link.

The request status link carries a signed token, not the ticket number: it names the ticket and its requester,
is signed with the site's secret and salted with the workspace's schema, so it cannot be guessed, edited to
reach another ticket, or replayed in another workspace whose ticket happens to have the same number. It is
stamped when made and expires HELP_CENTER_LINK_MAX_AGE_DAYS later, and dies with its ticket (deleted, or merged
into another one), so a leaked link does not open a ticket for ever.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse

from core.links import workspace_url

from ..emails import customer_publish_after_commit
from ..models import Ticket, TicketMessage
from ..selectors.help_center import help_center_title, request_token
from . import tickets


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
    customer_publish_after_commit(
        "helpdesk/email/ticket_received",
        kind="acknowledgement",
        ticket=ticket,
        to=ticket.requester.email,
        context=context,
    )
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
