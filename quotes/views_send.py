"""Sending a quote and its PDFs, for staff: the send dialog (a modal of the core HTMX kit), the PDF of the quote as
it stands (the sent revision, or a preview of a draft) and of any sent revision."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import capability_required
from core.forms import add_service_errors
from core.htmx import hx_redirect, render_modal

from . import printing, selectors, sending, services
from .forms import QuoteSendForm
from .models import Quote, QuoteRevision, QuoteStatus
from .views import quote_url

SEND_TEMPLATE = "quotes/quote_send.html"


def _quote_or_404(quote_id: int) -> Quote:
    try:
        return selectors.quote_get(quote_id=quote_id)
    except Quote.DoesNotExist:
        raise Http404("No such quote in this workspace.") from None


@require_http_methods(["GET", "POST"])
@capability_required("quotes.edit")
def quote_send(request: HttpRequest, quote_id: int) -> HttpResponse:
    """GET: the dialog, filled in (the contact's address, subject, a message with the customer's link). POST:
    freeze, PDF, email and status in one go; a refusal comes back in the dialog, nothing sent."""
    quote = _quote_or_404(quote_id)
    if request.method == "GET":
        defaults = sending.quote_send_defaults(quote=quote, sender_name=request.user.get_full_name())
        form = QuoteSendForm(initial={**defaults.__dict__, "version": quote.version})
        return render_modal(request, SEND_TEMPLATE, _context(quote, form))
    form = QuoteSendForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            sent = sending.quote_send(
                quote=quote, actor=request.user, to=data["to"], cc=data["cc"], subject=data["subject"],
                message=data["message"], expected_version=data["version"],
            )  # fmt: skip
        except services.StaleQuote as error:
            form.add_error(None, f"{error.message} Close this dialog and reload the quote.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            again = "again " if sent.resent else ""
            to = ", ".join(data["to"])
            messages.success(request, f"{quote.reference} revision {sent.revision.number} sent {again}to {to}.")
            return hx_redirect(request, quote_url(quote_id))
    return render_modal(request, SEND_TEMPLATE, _context(quote, form))


def _context(quote, form: QuoteSendForm) -> dict:
    return {
        "quote": quote,
        "form": form,
        "resend": quote.status != QuoteStatus.DRAFT,
        "filename": printing.pdf_filename(quote, quote.revision),
    }


@require_GET
@capability_required("quotes.view")
def quote_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    """The quote as it stands: its sent revision's PDF, or a preview of the draft being edited."""
    quote = _quote_or_404(quote_id)
    revision = None
    if quote.status != QuoteStatus.DRAFT:
        revision = QuoteRevision.objects.filter(quote=quote, number=quote.revision).first()
    if revision is not None:
        return pdf_response(printing.revision_pdf(revision), printing.pdf_filename(quote, revision.number))
    return pdf_response(printing.draft_pdf(quote), printing.pdf_filename(quote, quote.revision, draft=True))


@require_GET
@capability_required("quotes.view")
def revision_pdf(request: HttpRequest, revision_id: int) -> HttpResponse:
    """A sent revision's PDF, the same bytes as sent (its sha256 is the stored one)."""
    try:
        revision = selectors.quote_revision_get(revision_id=revision_id)
    except QuoteRevision.DoesNotExist:
        raise Http404("No such revision in this workspace.") from None
    return pdf_response(printing.revision_pdf(revision), printing.pdf_filename(revision.quote, revision.number))


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """Always a download: a PDF opened in our origin could run its scripts there."""
    response = HttpResponse(pdf, content_type=printing.PDF_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
