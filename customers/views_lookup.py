"""Search-as-you-type options for other pages' forms (core.forms.LookupWidget): companies and contacts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required
from core.forms import lookup_text

from . import selectors

OPTIONS_TEMPLATE = "components/lookup_options.html"


@require_GET
@capability_required("customers.view")
def customer_lookup(request: HttpRequest) -> HttpResponse:
    text = lookup_text(request)
    options = selectors.customer_lookup(text=text)
    return render(request, OPTIONS_TEMPLATE, {"options": options, "q": text, "prefix": "company-option"})


@require_GET
@capability_required("customers.view")
def contact_lookup(request: HttpRequest) -> HttpResponse:
    text = lookup_text(request)
    customer = request.GET.get("customer", "")
    customer_id = int(customer) if customer.isdigit() and len(customer) < 10 else None  # an id, not an overflow
    options = selectors.contact_lookup(text=text, customer_id=customer_id)
    return render(request, OPTIONS_TEMPLATE, {"options": options, "q": text, "prefix": "contact-option"})
