"""Quote pages and their HTMX fragments: the list, the create form, the builder (header, lines, totals, catalog
search, reorder, status) and revisions. Each view parses input, calls a service or selector, renders.

Builder writes carry the version the editor saw (the page's one `#quote-version` input). A line edit answers with
only that line's amount cell, the totals and the new version (out of band), so typing in the next field is never
interrupted. When someone else changed the quote meanwhile (StaleQuote) nothing is saved and the conflict notice
comes back with what the person tried, ready to apply again, like the ticket header: in place for htmx (which swaps
only 2xx answers), 409 otherwise.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.day_ranges import day_range_chips, day_range_inputs
from core.forms import add_service_errors
from core.htmx import hx_redirect, render_modal, render_partial, wants_fragment

from . import metrics, selectors, sending, services
from .forms import DAY_RANGES, LineAddForm, LineEditForm, QuoteCreateForm, QuoteFilterForm, QuoteHeaderForm, StatusForm
from .models import Quote, QuoteLine, QuoteRevision, QuoteStatus

LIST_TEMPLATE = "quotes/quote_list.html"
BUILDER_TEMPLATE = "quotes/quote_detail.html"
CREATE_TEMPLATE = "quotes/quote_form.html"
REVISION_TEMPLATE = "quotes/quote_revision.html"
PAGE_SIZE = 50
SORTS = ("number", "updated", "total", "valid_until")
# What every successful builder write refreshes out of band (a failed one left an error to clear).
CHANGED = ("quote-totals", "quote-version", "quote-status", "quote-errors")


def _quote_or_404(quote_id: int) -> Quote:
    try:
        return selectors.quote_get(quote_id=quote_id)
    except Quote.DoesNotExist:
        raise Http404("No such quote in this workspace.") from None


def _line_or_404(line_id: int) -> QuoteLine:
    try:
        return selectors.quote_line_get(line_id=line_id)
    except QuoteLine.DoesNotExist:
        raise Http404("No such line in this workspace.") from None


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


# --- List ---------------------------------------------------------------------------------------


@require_GET
@capability_required("quotes.view")
def quote_list(request: HttpRequest) -> HttpResponse:
    form = QuoteFilterForm(request.GET)
    query = form.query(user=request.user)
    page = selectors.quote_list(filters=query.filters, sort=query.sort, cursor=query.cursor, page_size=PAGE_SIZE)
    context = {
        "page": page,
        "form": form,
        "sort": query.sort,
        "sort_links": _sort_links(query.sort),
        "filters": query.filters,
        "params": query.params,
        "day_ranges": day_range_inputs(query.params, DAY_RANGES),
        "day_chips": day_range_chips(query.params, DAY_RANGES),
        "can_edit": user_can(request.user, "quotes.edit"),
        "can_manage": user_can(request.user, "quotes.manage"),
        "statuses": QuoteStatus.choices,
    }
    if wants_fragment(request, "quote-table"):
        return render_partial(request, LIST_TEMPLATE, "quote-table", context)
    context["owners"] = selectors.owner_choices()
    context["summary"] = metrics.quote_metrics()  # the page's strip; the table's swaps leave it as it is
    return render(request, LIST_TEMPLATE, context)


def _sort_links(sort: str) -> dict[str, dict]:
    links = {}
    for field in SORTS:
        active = sort.lstrip("-") == field
        descending = active and sort.startswith("-")
        param = (field if descending else f"-{field}") if active else f"-{field}"
        links[field] = {"param": param, "active": active, "desc": descending}
    return links


# --- Create -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("quotes.edit")
def quote_create(request: HttpRequest) -> HttpResponse:
    """From a lead page (?lead=), a company page (?customer=) or the list; opens the builder when made."""
    form = QuoteCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "GET":
        form.prefill(request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(actor=request.user, **form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Created {quote.reference}. Add its lines.")
            return hx_redirect(request, quote_url(quote.pk))
    return render_modal(request, CREATE_TEMPLATE, {"form": form})


def quote_url(quote_id: int) -> str:
    return reverse("quotes:quote_detail", args=[quote_id])


# --- The builder --------------------------------------------------------------------------------


def _builder_context(request: HttpRequest, quote: Quote, **extra: Any) -> dict[str, Any]:
    can_edit = user_can(request.user, "quotes.edit")
    return {
        "quote": quote,
        "sheet": selectors.quote_sheet(quote=quote),
        "can_edit": can_edit and quote.editable,
        "can_see_margin": user_can(request.user, "quotes.margin"),
        "next_statuses": [(s, QuoteStatus(s).label) for s in services.TRANSITIONS[quote.status]] if can_edit else [],
        **extra,
    }


@require_GET
@capability_required("quotes.view")
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = _quote_or_404(quote_id)
    context = _builder_context(request, quote)
    context["revisions"] = selectors.quote_revisions(quote=quote)
    context["acceptance"] = selectors.quote_acceptance_get(quote=quote)
    context |= sending_context(request, quote)
    if context["can_edit"]:
        context["header_form"] = QuoteHeaderForm(instance=quote)
    return render(request, BUILDER_TEMPLATE, context)


def sending_context(request: HttpRequest, quote: Quote) -> dict[str, Any]:
    """The send button and each email the quote went out by, with its delivery status."""
    deliveries = sending.quote_email_deliveries(quote=quote)
    return {
        "can_send": user_can(request.user, "quotes.edit") and quote.status in sending.SENDABLE,
        "deliveries": [(delivery, sending.delivery_revision(delivery)) for delivery in deliveries],
    }


def _fragments(
    request: HttpRequest, quote: Quote, *partials: str, context: dict[str, Any] | None = None, **extra: Any
) -> str:
    """Partials of the builder rendered out of band (each is its own DOM id), from the view's `context` when it has
    one already: reading and totalling the lines again would double the cost of every live edit."""
    context = {**(context or _builder_context(request, quote)), "oob": True, **extra}
    return "".join(render_to_string(f"{BUILDER_TEMPLATE}#{name}", context, request=request) for name in partials)


def _conflict(request: HttpRequest, quote_id: int, url: str) -> HttpResponse:
    """Nothing saved: the notice with the fresh version and what the person tried, to apply again."""
    quote = _quote_or_404(quote_id)
    retry = [(name, value) for name, value in request.POST.items() if name not in {"version", "csrfmiddlewaretoken"}]
    conflict = {"url": url, "retry": retry}
    if not request.htmx:
        context = _builder_context(request, quote, conflict=conflict)
        context["revisions"] = selectors.quote_revisions(quote=quote)
        context |= sending_context(request, quote)
        return render(request, BUILDER_TEMPLATE, context, status=409)
    # Into the notice's box (not out of band): two refused requests in a row still show one notice.
    context = _builder_context(request, quote, conflict=conflict)
    html = render_to_string(f"{BUILDER_TEMPLATE}#conflict-alert", context, request=request)
    return retarget(reswap(HttpResponse(html), "innerHTML"), "#quote-conflict")


def _refused(request: HttpRequest, quote_id: int, error: ValidationError) -> HttpResponse:
    quote = _quote_or_404(quote_id)
    errors = [message for message in (error.messages if hasattr(error, "messages") else [str(error)])]
    if not request.htmx:
        messages.error(request, " ".join(errors))
        return redirect("quotes:quote_detail", quote_id=quote_id)
    return reswap(HttpResponse(_fragments(request, quote, "quote-errors", errors=errors)), "none")


@require_POST
@capability_required("quotes.edit")
def quote_update(request: HttpRequest, quote_id: int) -> HttpResponse:
    """The header form (title, currency, validity, terms…), checked against its version."""
    quote = _quote_or_404(quote_id)
    form = QuoteHeaderForm(request.POST, instance=Quote.objects.get(pk=quote.pk))
    if not form.is_valid():
        context = _builder_context(request, quote, header_form=form)
        return render_partial(request, BUILDER_TEMPLATE, "quote-header", context)
    try:
        services.quote_update(
            quote=quote, actor=request.user, data=form.service_data(), expected_version=form.cleaned_data["version"]
        )
    except services.StaleQuote:
        return _conflict(request, quote_id, request.path)
    except ValidationError as error:
        return _refused(request, quote_id, error)
    messages.success(request, "Saved.")
    return hx_redirect(request, quote_url(quote_id))


@require_POST
@capability_required("quotes.edit")
def line_add(request: HttpRequest, quote_id: int) -> HttpResponse:
    """A product from the catalog search, a free line or a section heading, at the end: the new row is appended,
    the totals and version come out of band."""
    quote = _quote_or_404(quote_id)
    form = LineAddForm(request.POST)
    if not form.is_valid():
        return _refused(request, quote_id, ValidationError("Choose a product, or name the line."))
    product = form.cleaned_data["product"]
    if product is not None:
        product = selectors.product_for_quote(product_id=product.pk)
    data = {"description": form.cleaned_data["description"]} if form.cleaned_data["description"] else {}
    try:
        line = services.quote_line_add(
            quote=quote,
            actor=request.user,
            product=product,
            kind=form.cleaned_data["kind"] or QuoteLine.Kind.ITEM,
            data=data,
            expected_version=form.cleaned_data["version"],
        )
    except services.StaleQuote:
        return _conflict(request, quote_id, request.path)
    except ValidationError as error:
        return _refused(request, quote_id, error)
    return line_added(request, quote_id, line.pk)


def line_added(request: HttpRequest, quote_id: int, line_id: int, extra_html: str = "") -> HttpResponse:
    """The answer to a line added from the builder (also by the copilot): the new row, appended to #quote-lines,
    and the totals, version and empty state out of band."""
    if not request.htmx:
        return redirect("quotes:quote_detail", quote_id=quote_id)
    quote = _quote_or_404(quote_id)
    context = _builder_context(request, quote)
    line = next(item for item in context["sheet"].lines if item.pk == line_id)
    html = render_to_string(f"{BUILDER_TEMPLATE}#quote-line", {**context, "line": line}, request=request)
    return HttpResponse(html + _fragments(request, quote, *CHANGED, "quote-empty", context=context) + extra_html)


@require_POST
@capability_required("quotes.edit")
def line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    """One inline edit (quantity, price, discount, tax, text, optional/selected): answers with the line's amount
    and the totals; the inputs the person is typing in are left alone."""
    line = _line_or_404(line_id)
    form = LineEditForm(request.POST)
    if not form.is_valid():
        errors = [message for messages_ in form.errors.values() for message in messages_]
        return _refused(request, line.quote_id, ValidationError(errors))
    try:
        services.quote_line_update(
            line=line, actor=request.user, data=form.changes(), expected_version=form.cleaned_data["version"]
        )
    except services.StaleQuote:
        return _conflict(request, line.quote_id, request.path)
    except ValidationError as error:
        return _refused(request, line.quote_id, error)
    if not request.htmx:
        return redirect("quotes:quote_detail", quote_id=line.quote_id)
    quote = _quote_or_404(line.quote_id)
    context = _builder_context(request, quote, oob=True)
    changed = next(item for item in context["sheet"].lines if item.pk == line.pk)
    html = render_to_string(f"{BUILDER_TEMPLATE}#line-amount", {**context, "line": changed}, request=request)
    return HttpResponse(html + _fragments(request, quote, *CHANGED, context=context))


@require_POST
@capability_required("quotes.edit")
def line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _line_or_404(line_id)
    try:
        quote = services.quote_line_remove(line=line, actor=request.user, expected_version=_version(request))
    except services.StaleQuote:
        return _conflict(request, line.quote_id, request.path)
    except ValidationError as error:
        return _refused(request, line.quote_id, error)
    if not request.htmx:
        return redirect("quotes:quote_detail", quote_id=quote.pk)
    quote = _quote_or_404(quote.pk)
    return HttpResponse(_fragments(request, quote, *CHANGED, "quote-empty"))


@require_POST
@capability_required("quotes.edit")
def lines_reorder(request: HttpRequest, quote_id: int) -> HttpResponse:
    """A drag: `line` repeated in the new order. The rows are already in place; only the version comes back."""
    quote = _quote_or_404(quote_id)
    ids = [int(value) for value in request.POST.getlist("line") if value.isdigit()]
    try:
        services.quote_lines_reorder(quote=quote, actor=request.user, line_ids=ids, expected_version=_version(request))
    except services.StaleQuote:
        return _conflict(request, quote_id, request.path)
    except ValidationError as error:
        return _refused(request, quote_id, error)
    if not request.htmx:
        return redirect("quotes:quote_detail", quote_id=quote_id)
    return HttpResponse(_fragments(request, _quote_or_404(quote_id), "quote-version", "quote-status"))


@require_POST
@capability_required("quotes.edit")
def line_move(request: HttpRequest, line_id: int) -> HttpResponse:
    """The keyboard's reorder (Alt+↑/↓ or the row's buttons): `direction` up or down; the lines come back."""
    line = _line_or_404(line_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.quote_line_move(line=line, actor=request.user, offset=offset, expected_version=_version(request))
    except services.StaleQuote:
        return _conflict(request, line.quote_id, request.path)
    except ValidationError as error:
        return _refused(request, line.quote_id, error)
    if not request.htmx:
        return redirect("quotes:quote_detail", quote_id=line.quote_id)
    quote = _quote_or_404(line.quote_id)
    context = _builder_context(request, quote)
    html = render_to_string(f"{BUILDER_TEMPLATE}#quote-lines", context, request=request)
    return HttpResponse(html + _fragments(request, quote, "quote-version", "quote-status", context=context))


@require_GET
@capability_required("quotes.edit")
def product_search(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Search as you type: active products matching the text, priced in the quote's currency, and what is often
    sold with the products already on the quote."""
    quote = _quote_or_404(quote_id)
    text = request.GET.get("q", "")[:100]
    products = selectors.product_search(text=text, currency=quote.currency)
    context = {"quote": quote, "products": products, "text": text}
    if not text.strip():
        on_quote = list(quote.lines.exclude(product=None).values_list("product_id", flat=True))
        context["often"] = selectors.products_often_with(product_ids=on_quote, exclude_ids=on_quote)
    return render_partial(request, BUILDER_TEMPLATE, "product-results", context)


@require_POST
@capability_required("quotes.edit")
def quote_status(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = _quote_or_404(quote_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _refused(request, quote_id, ValidationError("Choose a status."))
    data = form.cleaned_data
    try:
        services.quote_status_set(
            quote=quote,
            status=data["status"],
            actor=request.user,
            reason=data["reason"],
            expected_version=data["version"],
        )
    except services.StaleQuote:
        return _conflict(request, quote_id, request.path)
    except ValidationError as error:
        return _refused(request, quote_id, error)
    messages.success(request, f"{quote.reference} is now {QuoteStatus(data['status']).label.lower()}.")
    return hx_redirect(request, quote_url(quote_id))


@require_GET
@capability_required("quotes.view")
def quote_revision(request: HttpRequest, revision_id: int) -> HttpResponse:
    """A revision as it was sent: read from its frozen snapshot, never from the current lines."""
    try:
        revision = selectors.quote_revision_get(revision_id=revision_id)
    except QuoteRevision.DoesNotExist:
        raise Http404("No such revision in this workspace.") from None
    context = {"quote": revision.quote, "revision": revision, "snapshot": revision.snapshot}
    return render(request, REVISION_TEMPLATE, context)
