"""The customer's page for a sent quote (/q/<token>/): the revision as sent, optional lines to tick with totals
recomputed on the server, accept (typed name, optional drawn signature, terms ticked) or decline with a reason.

Anonymous by design (listed in PUBLIC_ROUTES of config/tests/test_authorization.py): the signed token from
quotes.public is the only key, and it only opens on the workspace that signed it. A refused link answers with why:
not valid (404), expired or superseded by a newer version (410). The pages wear the workspace's current logo
(quote_logo below) and brand colour, with black or white text on it, whichever contrasts more. Ticking an option
asks the page again for its totals (HTMX); without JavaScript the "Update total" button posts the form back and
the page comes back with the ticks and the typed name kept. Accept and decline are rate-limited per client address.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.client_ip import client_ip
from core.forms import add_service_errors
from core.htmx import render_partial, wants_fragment
from core.rate_limit import over_limit

from . import acceptance, selectors
from .branding import quote_settings_get, text_colour_on
from .documents import date_format, money_format, number_format, percent_format
from .forms import AcceptForm, DeclineForm
from .models import QuoteStatus
from .public import QuoteLink, quote_link_open
from .totals import Totals

PAGE_TEMPLATE = "quotes/public/quote_public.html"
REFUSED_TEMPLATE = "quotes/public/quote_refused.html"
LIMITED_TEMPLATE = "quotes/public/quote_limited.html"
HOUR = 3600
LOGO_MAX_AGE = 24 * HOUR  # pages ask for it with ?v=<its sha256's start>, so a new logo shows at once anyway
LIMIT = (30, HOUR)  # accept/decline/recalculate posts per client address
REFUSED = {
    "invalid": (404, "This link is not valid. Check that you copied the whole link from the email."),
    "expired": (410, "This quote has expired."),
    "revised": (410, "A newer version of this quote was sent to you: use the link in that email."),
}


def _brand() -> dict[str, Any]:
    """The workspace's current logo and colour for its customer pages (the PDF keeps what was frozen when sent)."""
    settings = quote_settings_get()
    return {
        "brand_colour": settings.brand_colour,
        "brand_text": text_colour_on(settings.brand_colour),
        "logo_version": settings.logo_sha256[:12],
    }


def _open(token: str) -> QuoteLink:
    """The link's quote; one the expiry sweep already closed reads as an expired link."""
    link = quote_link_open(token)
    if link.quote is not None and link.quote.status == QuoteStatus.EXPIRED:
        return QuoteLink(quote=None, refused="expired", reference=link.quote.reference)
    return link


def _refused(request: HttpRequest, link: QuoteLink) -> HttpResponse:
    status, message = REFUSED[link.refused]
    context = {"refused": link.refused, "message": message, "reference": link.reference, **_brand()}
    return render(request, REFUSED_TEMPLATE, context, status=status)


def _limited(request: HttpRequest) -> HttpResponse | None:
    if not over_limit(f"quotes:public:{client_ip(request)}", *LIMIT):
        return None
    response = render(request, LIMITED_TEMPLATE, {"minutes": LIMIT[1] // 60}, status=429)
    response["Retry-After"] = str(LIMIT[1])
    return response


def _ticked(data: Any, snapshot: dict) -> set[int]:
    """The optional lines ticked in `data` (a page that posted its options), else the ones ticked when sent."""
    if "options" not in data:
        return acceptance.sent_selection(snapshot)
    ticked = {int(value) for value in data.getlist("line") if value.isdigit()}
    return ticked & acceptance.optional_line_ids(snapshot)


def _line_rows(lines: list[acceptance.SnapshotLine], currency: str) -> list[dict[str, Any]]:
    """The lines as printed on the PDF (quotes.documents' formats): "2 seat × $49.00 − 10% · tax 20%"."""
    rows = []
    for line in lines:
        detail = f"{number_format(line.quantity)} {line.unit} × {money_format(line.unit_price, currency, exact=True)}"
        detail += f" − {percent_format(line.discount)}" if line.discount else ""
        detail += f" · tax {percent_format(line.tax_rate)}" if line.tax_rate else ""
        rows.append({"line": line, "detail": detail, "amount": money_format(line.net, currency)})
    return rows


def _totals_view(totals: Totals) -> dict[str, Any]:
    money = lambda amount: money_format(amount, totals.currency)  # noqa: E731
    taxes = [(percent_format(tax.rate), money(tax.base), money(tax.amount)) for tax in totals.taxes]
    return {"subtotal": money(totals.subtotal), "taxes": taxes, "total": money(totals.total)}


def _page(request: HttpRequest, token: str, link: QuoteLink, *, status: int = 200, **extra: Any) -> HttpResponse:
    snapshot, quote = link.revision.snapshot, link.quote
    accepted = selectors.quote_acceptance_get(quote=quote) if quote.status == QuoteStatus.ACCEPTED else None
    if accepted is not None:
        ticked = set(accepted.selected_lines)  # what they accepted, not what was first sent
    else:
        ticked = _ticked(request.POST if request.method == "POST" else request.GET, snapshot)
    lines, totals = acceptance.snapshot_sheet(snapshot, ticked)
    optional_ids = acceptance.optional_line_ids(snapshot)
    valid_until = snapshot.get("valid_until")
    context = {
        "token": token,
        "quote": quote,
        "snapshot": snapshot,
        "valid_until": date_format(datetime.date.fromisoformat(valid_until)) if valid_until else "",
        "rows": _line_rows(lines, totals.currency),
        "has_options": bool(optional_ids),
        "totals": _totals_view(totals),
        "open": quote.status in (QuoteStatus.SENT, QuoteStatus.VIEWED) and quote.revision == link.revision.number,
        # Unbound, so "Update total" shows no errors; it keeps what was typed.
        "accept_form": AcceptForm(optional_ids=optional_ids, initial={"name": request.POST.get("name", "")}),
        "decline_form": DeclineForm(),
        "acceptance": accepted,
        **_brand(),
        **extra,
    }
    return render(request, PAGE_TEMPLATE, context, status=status)


@require_GET
def quote_public(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(token)
    if link.quote is None:
        return _refused(request, link)
    if wants_fragment(request, "quote-totals"):
        snapshot = link.revision.snapshot
        _lines, totals = acceptance.snapshot_sheet(snapshot, _ticked(request.GET, snapshot))
        context = {"totals": _totals_view(totals), "snapshot": snapshot}
        return render_partial(request, PAGE_TEMPLATE, "quote-totals", context)
    acceptance.quote_view_record(quote=link.quote)
    link.quote.refresh_from_db()
    return _page(request, token, link, done=request.GET.get("done", ""))


@require_POST
def quote_public_accept(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(token)
    if link.quote is None:
        return _refused(request, link)
    if limited := _limited(request):
        return limited
    optional_ids = acceptance.optional_line_ids(link.revision.snapshot)
    form = AcceptForm(request.POST, optional_ids=optional_ids)
    if request.POST.get("action") == "recalculate":
        return _page(request, token, link)
    if form.is_valid():
        try:
            acceptance.quote_accept(
                quote=link.quote,
                revision=link.revision,
                name=form.cleaned_data["name"],
                terms_accepted=form.cleaned_data["accept_terms"],
                selected_line_ids=form.cleaned_data["line"],
                signature=form.cleaned_data["signature"],
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(reverse("quotes_public:quote_public", args=[token]) + "?done=accepted")
    link.quote.refresh_from_db()
    return _page(request, token, link, status=400, accept_form=form)


@require_POST
def quote_public_decline(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(token)
    if link.quote is None:
        return _refused(request, link)
    if limited := _limited(request):
        return limited
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            acceptance.quote_decline(quote=link.quote, revision=link.revision, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(reverse("quotes_public:quote_public", args=[token]) + "?done=declined")
    link.quote.refresh_from_db()
    return _page(request, token, link, status=400, decline_form=form, declining=True)


@require_GET
def quote_logo(request: HttpRequest) -> HttpResponse:
    """The workspace's current logo, for its quote pages: anonymous like them. Only this workspace's storage is
    read (the storage is per schema), only the file its settings name, with the type verified at upload."""
    settings = quote_settings_get()
    if not settings.logo_sha256:
        raise Http404("This workspace has no logo.")
    try:
        stored = default_storage.open(settings.logo.name, "rb")
    except OSError:
        raise Http404("This workspace has no logo.") from None
    response = FileResponse(stored, content_type=settings.logo_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = f"public, max-age={LOGO_MAX_AGE}"
    response["ETag"] = f'"{settings.logo_sha256}"'
    return response
