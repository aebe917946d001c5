"""Catalog pages: the product list (search, category, active), add and edit a product with its prices, the CSV
import with its row-by-row report, and the export it reads back."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.csv_io import csv_lines
from core.forms import CsvImportForm, add_service_errors
from core.htmx import render_partial, wants_fragment

from . import catalog, selectors
from .forms import ProductFilterForm, ProductForm
from .models import Product

LIST_TEMPLATE = "quotes/product_list.html"
FORM_TEMPLATE = "quotes/product_form.html"
IMPORT_TEMPLATE = "quotes/catalog_import.html"
IMPORT_EXAMPLE = (
    "sku,name,description,unit,category,tax_rate,cost,cost_currency,active,price_usd,price_eur,price_gbp\n"
    "SEAT-PRO,Pro seat,Per agent and month,seat,Licences,20,12,USD,yes,49,45,39\n"
)


@require_GET
@capability_required("quotes.view")
def product_list(request: HttpRequest) -> HttpResponse:
    form = ProductFilterForm(request.GET)
    filters = form.filters()
    page = selectors.product_list(filters=filters, cursor=form.cleaned_data.get("cursor") if form.is_valid() else None)
    context = {
        "page": page,
        "filters": filters,
        "categories": selectors.product_categories(),
        "currencies": catalog.CATALOG_CURRENCIES,
        "can_edit": user_can(request.user, "quotes.edit"),
        "can_see_margin": user_can(request.user, "quotes.margin"),
    }
    if wants_fragment(request, "product-table"):
        return render_partial(request, LIST_TEMPLATE, "product-table", context)
    return render(request, LIST_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@capability_required("quotes.edit")
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = catalog.product_create(prices=form.prices(), **form.product_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Added {product.name} to the catalog.")
            return redirect("quotes:product_list")
    return render(request, FORM_TEMPLATE, {"form": form})


@require_http_methods(["GET", "POST"])
@capability_required("quotes.edit")
def product_update(request: HttpRequest, product_id: int) -> HttpResponse:
    try:
        product = selectors.product_get(product_id=product_id)
    except Product.DoesNotExist:
        raise Http404("No such product in this workspace.") from None
    form = ProductForm(request.POST or None, instance=copy.copy(product))
    if request.method == "POST" and form.is_valid():
        try:
            catalog.product_update(product=product, data=form.product_data(), prices=form.prices())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved {product.name}.")
            return redirect("quotes:product_list")
    return render(request, FORM_TEMPLATE, {"form": form, "product": product})


@require_http_methods(["GET", "POST"])
@capability_required("quotes.edit")
def catalog_import(request: HttpRequest) -> HttpResponse:
    form = CsvImportForm(request.POST or None, request.FILES or None)
    context = {
        "form": form,
        "columns": catalog.PRODUCT_COLUMNS.known,
        "example": IMPORT_EXAMPLE,
        "max_bytes": settings.CSV_IMPORT_MAX_BYTES,
    }
    if request.method != "POST" or not form.is_valid():
        return render(request, IMPORT_TEMPLATE, context)
    try:
        result = catalog.catalog_import_csv(file=form.cleaned_data["file"], mode=form.cleaned_data["mode"])
    except ValidationError as error:
        form.add_error("file", error)
        return render(request, IMPORT_TEMPLATE, context, status=413 if error.code == "too_big" else 200)
    if result.created and not result.errors:
        messages.success(request, f"Imported {result.created} product{'s' if result.created != 1 else ''}.")
        return redirect("quotes:product_list")
    return render(request, IMPORT_TEMPLATE, {**context, "result": result})


@require_GET
@capability_required("quotes.margin")
def catalog_export(request: HttpRequest) -> StreamingHttpResponse:
    """Costs are in the file: only for those who see margins."""
    response = StreamingHttpResponse(csv_lines(catalog.catalog_export_lines()), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="catalog-{stamp}.csv"'
    return response
