"""Business emails other apps send through the inbox's outbound pipeline (inbox.facade.email_queue): a quote to a
customer, with its PDF. Same row, task, transports, retries, Message-ID, DKIM and bounce handling as ticket mail,
but bound to no ticket: the row carries a `reference` ("quote:12:2") the sending app reads its status back by.

Attachment bytes are written once, when the email is queued, into this workspace's file storage
(django-tenants' TenantFileSystemStorage puts every path under the workspace's own folder, like the helpdesk's
attachments): the worker sends exactly the bytes the caller had (a quote PDF whose sha256 is on its revision),
and a retry hours later needs nothing from the app that asked.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from email.headerregistry import Address
from email.utils import getaddresses

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.outbox import enqueue_on_commit
from core.uploads import upload_name_clean
from core.validation import validate_international_email

from ..contracts import EmailAttachment, EmailDelivery
from ..models import Mailbox, OutboundEmail
from . import outbound_mime as mime

MAX_RECIPIENTS = 20
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
STORAGE_FOLDER = "inbox/outbound"


def addresses_parse(text: str | Sequence[str], *, field: str = "to") -> list[str]:
    """Addresses from "a@x.test, Ann <b@y.test>" (or a list of them), each checked; ValidationError names the bad
    one. Duplicates are dropped, case-insensitively."""
    raw = [text] if isinstance(text, str) else list(text)
    pairs = getaddresses([part.replace(";", ",") for part in raw])
    seen: dict[str, str] = {}
    for name, address in pairs:
        address = address.strip()
        if not address and not name:
            continue
        try:
            validate_international_email(address)
        except ValidationError:
            shown = address or name
            raise ValidationError({field: f"“{shown}” is not an email address."}, code="bad_address") from None
        seen.setdefault(address.lower(), str(Address(display_name=name.strip(), addr_spec=address)))
    if len(seen) > MAX_RECIPIENTS:
        raise ValidationError({field: f"At most {MAX_RECIPIENTS} addresses."}, code="too_many")
    return list(seen.values())


def business_mailbox() -> Mailbox | None:
    """The workspace's default active mailbox (its address and way out), else none: the platform's."""
    return Mailbox.objects.filter(is_default=True, active=True).first()


@transaction.atomic
def business_email_queue(
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    kind: str,
    reference: str,
    cc: Sequence[str] = (),
    author_name: str = "",
    reply_to: str = "",
    attachments: Sequence[EmailAttachment] = (),
) -> OutboundEmail:
    """An email queued in the caller's transaction (sent by a worker after it commits; nothing if it rolls back)."""
    to, cc = addresses_parse(to, field="to"), addresses_parse(cc, field="cc")
    if not to:
        raise ValidationError({"to": "Give at least one address to send to."}, code="no_recipient")
    if kind not in OutboundEmail.Kind.values:
        raise ValueError(f"Unknown email kind {kind!r}.")
    mailbox = business_mailbox()
    outbound = OutboundEmail.objects.create(
        ticket_id=None,
        reference=reference[:100],
        kind=kind,
        mailbox=mailbox,
        from_address=mime.from_header(mailbox, author_name),
        to=to,
        cc=cc,
        subject=" ".join(subject.split())[:300],
        body=body,
        author_name=author_name[:150],
        reply_to=(addresses_parse(reply_to, field="reply_to")[:1] or [""])[0] if reply_to else "",
        attachments=[_stored(attachment) for attachment in attachments],
        message_id=mime.message_id_make(mailbox),
    )
    from ..tasks.outbound import outbound_email_send_task  # the task module calls these services

    enqueue_on_commit(outbound_email_send_task, outbound.pk)
    return outbound


def _stored(attachment: EmailAttachment) -> dict[str, object]:
    if not attachment.content or len(attachment.content) > MAX_ATTACHMENT_BYTES:
        raise ValidationError("An attachment must be between 1 byte and 20 MiB.", code="attachment_size")
    filename = upload_name_clean(attachment.filename) or "attachment"
    # A fresh folder per file: two emails' "Q-00012-rev2.pdf" never meet, and no name a caller gives picks a path.
    name = f"{STORAGE_FOLDER}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}/{filename}"
    path = default_storage.save(name, ContentFile(attachment.content))
    return {
        "path": path,
        "filename": filename,
        "content_type": attachment.content_type or "application/octet-stream",
        "size": len(attachment.content),
        "sha256": hashlib.sha256(attachment.content).hexdigest(),
    }


def business_email_deliveries(*, reference_prefix: str) -> list[EmailDelivery]:
    """Business emails whose reference is `reference_prefix` or starts with it followed by ":", newest first."""
    prefix = reference_prefix.rstrip(":")
    rows = OutboundEmail.objects.filter(ticket_id=None, reference__startswith=prefix).order_by("-created", "-id")
    return [_delivery(row) for row in rows[:100] if row.reference == prefix or row.reference.startswith(prefix + ":")]


def _delivery(row: OutboundEmail) -> EmailDelivery:
    return EmailDelivery(
        id=row.pk,
        reference=row.reference,
        status=row.status,
        status_label=row.get_status_display(),
        answer=row.answer,
        to=tuple(row.to),
        cc=tuple(row.cc),
        subject=row.subject,
        message_id=row.message_id,
        created=row.created,
        sent_at=row.sent_at,
        attachments=tuple((item.get("filename", ""), item.get("sha256", "")) for item in row.attachments),
    )
