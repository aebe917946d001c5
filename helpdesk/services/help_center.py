"""The public help center's writes: requests from the form (ticket + acknowledgement) and the requester's link,
"My requests" sign-in links, and whether a suggested article answered the visitor (deflection).

The request status link carries a signed token, not the ticket number: it names the ticket and its requester,
is signed with the site's secret and salted with the workspace's schema, so it cannot be guessed, edited to
reach another ticket, or replayed in another workspace whose ticket happens to have the same number. It is
stamped when made and expires HELP_CENTER_LINK_MAX_AGE_DAYS later, and dies with its ticket (deleted, or merged
into another one), so a leaked link does not open a ticket for ever.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.links import workspace_url
from customers.facade import Contact, contact_queryset

from ..emails import customer_publish_after_commit, send_after_commit
from ..models import Article, DeflectionEvent, HelpSignInLink, Ticket, TicketMessage
from ..selectors.help_center import (
    SIGN_IN_MAX_AGE,
    help_center_title,
    request_token,
    sign_in_digest,
    sign_in_link_check,
    sign_in_token,
)
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
    request_acknowledge(ticket)
    return ticket


def request_acknowledge(ticket: Ticket) -> None:
    """Tells the requester of a new ticket (from the help center, or by email) that it arrived, under its number,
    with the link to follow it; sent once the ticket is committed."""
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


def help_request_reply(*, ticket: Ticket, body: str, attachments: Sequence[UploadedFile] = ()) -> TicketMessage:
    """The requester answers from the status page: a public message, which reopens a pending or solved ticket."""
    return tickets.customer_message_add(
        ticket=ticket,
        body=body,
        contact=ticket.requester,
        channel=Ticket.Channel.HELP_CENTER,
        attachments=attachments,
    )


# --- "My requests": sign in by an emailed one-time link ----------------------------------------------


@transaction.atomic
def help_sign_in_request(*, email: str) -> bool:
    """Emails a one-time "My requests" link to the contact with this address. An unknown address gets nothing;
    the caller answers the same either way, so the form tells nobody who is a customer. True when sent."""
    email = (email or "").strip().lower()
    contact = contact_queryset().filter(email__iexact=email).order_by("id").first() if email else None
    if contact is None:
        return False
    secret = secrets.token_urlsafe(32)
    HelpSignInLink.objects.create(contact=contact, digest=sign_in_digest(secret))
    context = {
        "name": contact.name,
        "help_title": help_center_title(),
        "sign_in_url": workspace_url(reverse("help_center:sign_in_open", args=[sign_in_token(secret)])),
        "minutes": int(SIGN_IN_MAX_AGE.total_seconds() // 60),
    }
    send_after_commit("helpdesk/email/help_sign_in", to=contact.email, context=context)
    return True


@transaction.atomic
def help_sign_in_use(*, token: str) -> Contact:
    """Spends a sign-in link and returns its contact; a forged, expired or already used link is refused
    (ValidationError with code "invalid", "expired" or "used"). The row is locked: two clicks, one sign-in."""
    check = sign_in_link_check(token, lock=True)
    if check.link is None:
        raise ValidationError("This sign-in link cannot be used.", code=check.refused)
    check.link.used_at = timezone.now()
    check.link.save(update_fields=["used_at"])
    return check.link.contact


# --- Deflection ---------------------------------------------------------------------------------


def deflection_record(
    *,
    outcome: str,
    source: str = DeflectionEvent.Source.REQUEST_FORM,
    article: Article | None = None,
    ticket: Ticket | None = None,
    suggested: int = 0,
) -> DeflectionEvent:
    """Counts one visitor shown articles: helped by `article`, or asking anyway (`ticket`)."""
    if outcome not in DeflectionEvent.Outcome.values:
        raise ValidationError({"outcome": "Say whether the articles helped: “helped” or “not_helped”."})
    if source not in DeflectionEvent.Source.values:
        raise ValidationError({"source": "Unknown source."})
    return DeflectionEvent.objects.create(
        outcome=outcome, source=source, article=article, ticket=ticket, suggested=max(0, min(int(suggested), 50))
    )
