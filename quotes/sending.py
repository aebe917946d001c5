"""Sending a quote to the customer by email: the dialog's defaults, and the send itself.

One transaction: the revision is frozen with its PDF's sha256 (quotes.services), the status moves to sent, and
the email (the PDF attached, the customer's signed link in the text) is queued through the inbox's outbound mail
(inbox.facade.email_queue), which a worker sends once the transaction commits. Anything refused rolls it all back.
A quote already sent and not changed since is sent again as the same revision (same PDF, same hash).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from core.emails import workspace_name
from core.links import workspace_url
from inbox import facade as inbox
from inbox.contracts import EmailDelivery

from . import printing, services
from .documents import date_format
from .models import Quote, QuoteRevision, QuoteStatus
from .pdf import QuotePdfError
from .public import PUBLIC_PATH, quote_public_url

EMAIL_KIND = "quote"
SENDABLE = frozenset({QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.VIEWED})


@dataclass(frozen=True)
class SendDefaults:
    """What the send dialog starts with."""

    to: str
    cc: str
    subject: str
    message: str


@dataclass(frozen=True)
class QuoteSent:
    quote: Quote
    revision: QuoteRevision
    email_id: int
    resent: bool  # the same revision sent again


def email_reference(quote_id: int, revision: int | None = None) -> str:
    """How the quote's emails are named in the inbox: "quote:12:2" (one revision), "quote:12" (all of them)."""
    return f"quote:{quote_id}" if revision is None else f"quote:{quote_id}:{revision}"


def quote_send_defaults(*, quote: Quote, sender_name: str = "") -> SendDefaults:
    """The contact's address, "Quote Q-00012 from Acme", and a short message with the customer's link."""
    workspace = workspace_name()
    contact = quote.contact
    greeting = f"Hello {contact.name}," if contact and contact.name else "Hello,"
    lines = [
        greeting,
        "",
        f"please find our quote {quote.reference} ({quote.title}) attached as a PDF.",
        "You can read it, choose any options and accept it online here:",
        quote_public_url(quote=quote),
        "",
    ]
    if quote.valid_until:
        lines += [f"The quote is valid until {date_format(quote.valid_until)}.", ""]
    lines += ["Kind regards,", sender_name or workspace]
    return SendDefaults(
        to=contact.email if contact and contact.email else "",
        cc="",
        subject=f"Quote {quote.reference} from {workspace}",
        message="\n".join(lines),
    )


@transaction.atomic
def quote_send(
    *,
    quote: Quote,
    actor,
    to: Sequence[str] | str,
    subject: str,
    message: str,
    cc: Sequence[str] | str = (),
    expected_version: int | None = None,
) -> QuoteSent:
    """Freezes the quote's revision with its PDF, marks it sent and queues the email; or, for a quote already sent
    and unchanged, queues the same revision's email again. ValidationError says what was refused (a bad address,
    an empty quote, a closed one); StaleQuote when someone changed the quote since the dialog opened."""
    to_list, cc_list = inbox.email_addresses_parse(to, field="to"), inbox.email_addresses_parse(cc, field="cc")
    if not to_list:
        raise ValidationError({"to": "Give the customer's email address."}, code="no_recipient")
    subject, message = " ".join((subject or "").split()), (message or "").strip()
    if not subject:
        raise ValidationError({"subject": "Give the email a subject."}, code="no_subject")
    locked = Quote.objects.select_for_update().get(pk=quote.pk)
    if expected_version is not None and locked.version != expected_version:
        raise services.StaleQuote("Someone else changed this quote since you opened the dialog.", code="stale")
    if locked.status not in SENDABLE:
        label = locked.get_status_display().lower()
        raise ValidationError(f"This quote is {label}: it cannot be sent again.", code="bad_transition")
    resent = locked.status != QuoteStatus.DRAFT
    try:
        if not resent:
            locked = services.quote_status_set(quote=locked, status=QuoteStatus.SENT, actor=actor)
        revision = QuoteRevision.objects.get(quote=locked, number=locked.revision)
        pdf = printing.revision_pdf(revision)
    except QuotePdfError as error:
        raise ValidationError(f"The PDF could not be made, nothing was sent: {error}", code="pdf") from error
    if revision.pdf_sha256 and printing.pdf_sha256(pdf) != revision.pdf_sha256:
        # Rendering is deterministic: a different hash means the template or fonts changed since it was sent.
        raise ValidationError("This revision no longer prints as it was sent: nothing was sent.", code="pdf_changed")
    email_id = inbox.email_queue(
        to=to_list,
        cc=cc_list,
        subject=subject,
        body=_with_link(message, locked, revision.number),
        kind=EMAIL_KIND,
        reference=email_reference(locked.pk, revision.number),
        author_name=_name(actor),
        reply_to=getattr(actor, "email", "") or "",
        attachments=[(printing.pdf_filename(locked, revision.number), printing.PDF_CONTENT_TYPE, pdf)],
    )
    return QuoteSent(quote=locked, revision=revision, email_id=email_id, resent=resent)


def _with_link(message: str, quote: Quote, revision: int) -> str:
    """The message as written; when the person removed the customer's link, a fresh one is added at the end."""
    if workspace_url(PUBLIC_PATH.split("{", 1)[0]) in message:
        return message
    link = quote_public_url(quote=quote, revision=revision)
    return f"{message}\n\nRead and accept the quote online: {link}"


def _name(actor) -> str:
    if actor is None:
        return ""
    full = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return (full or "").strip()[:150]


def quote_email_deliveries(*, quote: Quote) -> list[EmailDelivery]:
    """Every email this quote was sent by, newest first, with its delivery status (queued, sent, bounced…)."""
    return inbox.email_statuses(email_reference(quote.pk))


def delivery_revision(delivery: EmailDelivery) -> int | None:
    """The revision number an email of `quote_email_deliveries` sent."""
    last = delivery.reference.rsplit(":", 1)[-1]
    return int(last) if last.isdigit() else None
