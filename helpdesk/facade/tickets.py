"""Tickets and messages for the channels: open a ticket or add a customer's message (email, chat, SMS, API), look
a ticket up for threading, report how a delivery went, screen inbound attachments."""

from __future__ import annotations

import os
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone

from customers.facade import contact_for_email, contact_queryset

from .. import live
from ..contracts import InboundAttachment, ReceivedMessage, TicketSummary
from ..models import Attachment, DeliveryStatus, Ticket, TicketMessage
from ..services import help_center
from ..services import tickets as ticket_services
from ..validators import validate_attachments

DELIVERY_STATUSES = tuple(DeliveryStatus.values)


def ticket_summary(ticket_id: int) -> TicketSummary | None:
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    return TicketSummary(
        id=ticket.pk,
        subject=ticket.subject,
        status=ticket.status,
        channel=ticket.channel,
        requester_contact_id=ticket.requester_id,
        requester_email=ticket.requester.email,
        requester_name=ticket.requester.name,
        customer_id=ticket.customer_id,
        cc=tuple(ticket.cc),
    )


@transaction.atomic
def ticket_open(
    *,
    subject: str,
    body: str,
    sender_email: str = "",
    sender_name: str = "",
    channel: str,
    attachments: Sequence[InboundAttachment] = (),
    cc: Sequence[str] = (),
    external_id: str = "",
    sender_contact_id: int | None = None,
    auto_reply: bool = False,
) -> tuple[ReceivedMessage, list[str]]:
    """A new ticket from a customer's first message; an unknown sender becomes a contact.

    `sender_contact_id` names the sender when a channel knows them by something else than an email address (an
    SMS sender's phone number: customers.facade.contact_for_phone).
    Attachments the upload allow-list refuses are left out, and the reasons returned (the caller keeps the
    original message, so nothing is lost): one refused file never costs the customer their ticket.
    An emailed request is acknowledged by email, unless `auto_reply` says a machine wrote the message
    (an out-of-office, a mailing list): two robots must not answer each other for ever.
    """
    uploads, content_ids, refused = _accepted(attachments)
    ticket = ticket_services.ticket_create(
        subject=subject,
        description=body,
        requester=_sender_contact(sender_contact_id),
        requester_email=sender_email,
        requester_name=sender_name,
        channel=channel,
        attachments=uploads,
        content_ids=content_ids,
        cc=cc,
        external_id=external_id,
    )
    # ticket_create adds a thread entry only to carry the files sent with the ticket: without any, nothing to look up.
    opening = ticket.messages.order_by("id").values_list("pk", flat=True).first() if uploads else None
    if channel == Ticket.Channel.EMAIL and not auto_reply:
        help_center.request_acknowledge(ticket)
    return ReceivedMessage(ticket_id=ticket.pk, message_id=opening, created_ticket=True), refused


@transaction.atomic
def message_receive(
    *,
    ticket_id: int,
    body: str,
    sender_email: str = "",
    sender_name: str = "",
    channel: str,
    attachments: Sequence[InboundAttachment] = (),
    external_id: str = "",
    sender_contact_id: int | None = None,
) -> tuple[ReceivedMessage, list[str]]:
    """A customer's message on an existing ticket (it reopens a pending or solved one). Raises ValidationError
    when the ticket is gone or closed: the caller then opens a new ticket."""
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise ValidationError({"ticket": f"Ticket #{ticket_id} does not exist."})
    uploads, content_ids, refused = _accepted(attachments)
    contact = _sender_contact(sender_contact_id)
    if contact is None:
        contact = contact_for_email(email=sender_email, name=sender_name) if sender_email else ticket.requester
    message = ticket_services.customer_message_add(
        ticket=ticket,
        body=body,
        contact=contact,
        channel=channel,
        attachments=uploads,
        content_ids=content_ids,
        external_id=external_id,
    )
    return ReceivedMessage(ticket_id=ticket.pk, message_id=message.pk, created_ticket=False), refused


def _accepted(attachments: Sequence[InboundAttachment]) -> tuple[list[SimpleUploadedFile], list[str], list[str]]:
    uploads, content_ids, refused = [], [], []
    limit = settings.HELPDESK_ATTACHMENTS_PER_MESSAGE
    for attachment in attachments:
        if len(uploads) >= limit:  # the count limit would refuse them all: keep the first ones
            refused.append(f"{attachment.filename}: at most {limit} files are kept per message.")
            continue
        upload = _upload_of(attachment)
        try:
            validate_attachments([upload])
        except ValidationError as error:
            refused.extend(error.messages)
            continue
        upload.seek(0)
        uploads.append(upload)
        content_ids.append(attachment.content_id)
    return uploads, content_ids, refused


def _upload_of(attachment: InboundAttachment) -> UploadedFile:
    """The attachment as an upload; a big one arrives as an open file (inbox streams it), not read here."""
    name = attachment.filename or "attachment"
    if isinstance(attachment.content, bytes | bytearray):
        return SimpleUploadedFile(name, bytes(attachment.content), attachment.content_type)
    file = attachment.content
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    return UploadedFile(file=file, name=name, content_type=attachment.content_type, size=size)


def message_delivery_set(*, message_id: int, status: str, detail: str = "") -> bool:
    """Records how delivery of a public message went and shows it on the open ticket. False: no such message."""
    if status not in DELIVERY_STATUSES:
        raise ValueError(f"unknown delivery status {status!r}")
    updated = TicketMessage.objects.filter(pk=message_id).update(
        delivery_status=status, delivery_detail=detail[:500], delivery_updated=timezone.now()
    )
    if updated:
        message = TicketMessage.objects.select_related("ticket").get(pk=message_id)
        live.message_delivery_changed(message.ticket, message)
    return bool(updated)


def attachment_open(attachment_id: int):
    """The stored file of a ticket attachment, opened for reading (the caller closes it)."""
    attachment = Attachment.objects.get(pk=attachment_id)
    return attachment.file.open("rb")


def ticket_for_external_ids(external_ids: Sequence[str]) -> int | None:
    """The ticket one of these Message-IDs (or other channel ids) was received or sent as, newest first."""
    ids = [value.strip() for value in external_ids if value and value.strip()]
    if not ids:
        return None
    return (
        TicketMessage.objects.filter(external_id__in=ids)
        .order_by("-created", "-id")
        .values_list("ticket_id", flat=True)
    ).first()


def message_for_external_id(external_id: str) -> int | None:
    """The thread entry sent or received as this id (our own Message-ID, a Twilio MessageSid…)."""
    if not external_id.strip():
        return None
    return TicketMessage.objects.filter(external_id=external_id.strip()).values_list("pk", flat=True).first()


def message_external_id_set(*, message_id: int, external_id: str) -> None:
    """Records the id a message was sent as (our Message-ID, a provider's message id), for threading and reports."""
    TicketMessage.objects.filter(pk=message_id).update(external_id=external_id[:255])


# --- sms ---


def _sender_contact(contact_id: int | None):
    if contact_id is None:
        return None
    contact = contact_queryset().select_related("customer").filter(pk=contact_id).first()
    if contact is None:
        raise ValidationError({"sender": f"Contact #{contact_id} does not exist."})
    return contact


# --- pipeline ---


def attachments_screen(attachments: Sequence[InboundAttachment]) -> tuple[list[InboundAttachment], list[str]]:
    """The files of a received message the upload allow-list and the per-message limits take, and why each other
    one is refused: the caller can tell the agent in the message itself that a file was held back."""
    kept, refused = [], []
    for attachment in attachments:
        _uploads, _content_ids, problems = _accepted([attachment])
        limit = settings.HELPDESK_ATTACHMENTS_PER_MESSAGE
        if not problems and len(kept) >= limit:
            problems = [f"{attachment.filename}: at most {limit} files are kept per message."]
        if problems:
            refused.extend(problems)
        else:
            kept.append(attachment)
    return kept, refused
