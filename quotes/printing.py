"""What a quote's PDF is made from, and the PDF itself: for a sent revision, only its frozen snapshot; for a draft,
its current lines (a preview).

Sending freezes, next to the lines and totals, everything else the PDF prints (the workspace's name, brand
colour and a reference to its logo's stored bytes (quotes.branding), the company and contact as they were, the
issue date, the customer's link) under the snapshot's "print" key. So a revision's PDF can be rendered again at
any time, byte for byte (quotes/pdf.py is deterministic), and its sha256 checked against the one stored when it
was sent: no PDF file is kept to lose, back up or leak; a download costs one render (well under a second,
bench/quotes.py).
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.utils import timezone

from core.emails import workspace_name
from customers import facade as customers
from leads import facade as leads

from .branding import logo_load, logo_reference, quote_settings_get
from .documents import Contact, Party, QuoteDocument, document_from_snapshot
from .models import DEFAULT_BRAND_COLOUR, Quote, QuoteRevision
from .pdf import quote_pdf_render, quote_pdf_sha256

PDF_CONTENT_TYPE = "application/pdf"
CACHED_RENDERS = 4  # sending renders the PDF to freeze its hash, then attaches the same bytes: one render


def print_fields(quote: Quote, *, public_url: str = "", today: datetime.date | None = None) -> dict[str, Any]:
    """The parts of a printed quote that are not its lines, as they are now (frozen into a sent revision)."""
    contact = quote.contact
    branding = quote_settings_get()
    return {
        "workspace_name": workspace_name(),
        "brand_colour": branding.brand_colour,
        "logo": logo_reference(branding),
        "issue_date": (today or timezone.localdate()).isoformat(),
        "customer": {"name": _party_name(quote), "email": ""},
        "contact": {"name": contact.name, "email": contact.email, "phone": contact.phone} if contact else None,
        "public_url": public_url,
    }


def _party_name(quote: Quote) -> str:
    name = customers.customer_name(customer_id=quote.customer_id) if quote.customer_id else None
    if not name and quote.lead_id:
        lead = leads.lead_summary(lead_id=quote.lead_id)
        name = lead.title if lead else None
    return name or "Customer"


def snapshot_document(snapshot: dict[str, Any], *, revision: int) -> QuoteDocument:
    """The printable document of a snapshot that carries its "print" fields."""
    fields = snapshot["print"]
    contact = fields.get("contact")
    return document_from_snapshot(
        snapshot,
        workspace_name=fields["workspace_name"],
        revision=revision,
        issue_date=datetime.date.fromisoformat(fields["issue_date"]),
        customer=Party(name=fields["customer"]["name"], email=fields["customer"].get("email", "")),
        contact=Contact(**contact) if contact else None,
        brand_colour=fields.get("brand_colour") or DEFAULT_BRAND_COLOUR,
        logo=logo_load(fields.get("logo")),  # revisions sent before logos existed have none
        public_url=fields.get("public_url", ""),
    )


@functools.lru_cache(maxsize=CACHED_RENDERS)
def document_pdf(document: QuoteDocument) -> bytes:
    """The PDF of `document` (documents are frozen and hashable; the same one always prints the same bytes)."""
    return quote_pdf_render(document)


def snapshot_pdf(snapshot: dict[str, Any], *, revision: int) -> bytes:
    return document_pdf(snapshot_document(snapshot, revision=revision))


def revision_pdf(revision: QuoteRevision) -> bytes:
    """A sent revision's PDF, rendered again from its snapshot: the same bytes as when it was sent. A revision
    frozen before the print fields existed prints with the quote's current company and contact, and the default
    colour without a logo, as it did then."""
    snapshot = revision.snapshot
    if "print" not in snapshot:
        today = timezone.localtime(revision.created).date()
        fields = print_fields(revision.quote, today=today) | {"brand_colour": DEFAULT_BRAND_COLOUR, "logo": None}
        snapshot = {**snapshot, "print": fields}
    return snapshot_pdf(snapshot, revision=revision.number)


def draft_pdf(quote: Quote) -> bytes:
    """A preview of the quote as it is now (a draft, or the revision being edited), dated today, without a link."""
    from .selectors import quote_sheet
    from .services import quote_snapshot  # services freeze revisions with this module: imported when used

    snapshot = quote_snapshot(quote, quote_sheet(quote=quote).lines) | {"print": print_fields(quote)}
    return snapshot_pdf(snapshot, revision=quote.revision)


def pdf_filename(quote: Quote, revision: int, *, draft: bool = False) -> str:
    """ "Q-00012-rev2.pdf" ("Q-00012-rev3-draft.pdf" for a preview)."""
    return f"{quote.reference}-rev{revision}{'-draft' if draft else ''}.pdf"


def pdf_sha256(pdf: bytes) -> str:
    return quote_pdf_sha256(pdf)
