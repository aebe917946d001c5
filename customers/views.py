"""Customer and contact pages and their HTMX fragments. Each view parses input, calls a service or selector, renders.

Modal forms: a GET returns the form (the `modal-body` partial) into #modal-body; an invalid POST returns it
again with errors, status 200 so htmx swaps it; a valid POST answers `HX-Trigger: modal:close`, swaps nothing
in the modal and updates the page out of band (new row, customer card, contacts table) with a toast.
Without JavaScript the same URLs work as ordinary pages and redirects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.deletion import StillInUse
from core.htmx import hx_redirect, modal_done, render_modal, render_partial, wants_fragment
from core.realtime import topics_query

from . import live, selectors, services
from .csv_io import csv_lines
from .forms import ContactFilterForm, ContactForm, CsvImportForm, CustomerFilterForm, CustomerForm
from .health_chart import health_chart
from .imports import CONTACT_COLUMNS, CUSTOMER_COLUMNS
from .models import Contact, Customer
from .services import ImportMode

LIST_TEMPLATE = "customers/customer_list.html"
DETAIL_TEMPLATE = "customers/customer_detail.html"
CONTACTS_TEMPLATE = "customers/contact_list.html"
IMPORT_TEMPLATE = "customers/customer_import.html"
PAGE_SIZE = 50


# --- Helpers ------------------------------------------------------------------------------------


def _capabilities(user) -> dict[str, bool]:
    return {
        "can_edit": user_can(user, "customers.edit"),
        "can_import": user_can(user, "customers.import"),
        "can_delete": user_can(user, "customers.delete"),
    }


def _customer_or_404(customer_id: int) -> Customer:
    try:
        return selectors.customer_get(customer_id=customer_id)
    except Customer.DoesNotExist:
        raise Http404("No such customer in this workspace.") from None


def _contact_or_404(contact_id: int) -> Contact:
    try:
        return selectors.contact_get(contact_id=contact_id)
    except Contact.DoesNotExist:
        raise Http404("No such contact in this workspace.") from None


def _sort_links(sort: str, fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """For each sortable column: the sort its header link sets (a second click reverses it; dates start with
    the newest), and whether the list is sorted by it now."""
    links = {}
    for field in fields:
        active = sort.lstrip("-") == field
        descending = active and sort.startswith("-")
        first_click = f"-{field}" if field == "created" else field
        param = (field if descending else f"-{field}") if active else first_click
        links[field] = {"param": param, "active": active, "desc": descending}
    return links


# --- Customer list, detail, export --------------------------------------------------------------


@require_GET
@capability_required("customers.view")
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET)
    query = form.query(user=request.user)
    page = selectors.customer_list(filters=query.filters, sort=query.sort, cursor=query.cursor, page_size=PAGE_SIZE)
    context = {
        "page": page,
        "filters": query.filters,
        "sort": query.sort,
        "sort_links": _sort_links(query.sort, ("name", "tier", "health", "created")),
        "form": form,
        **_capabilities(request.user),
    }
    if wants_fragment(request, "customer-table"):
        return render_partial(request, LIST_TEMPLATE, "customer-table", context)
    context["options"] = selectors.customer_filter_options()
    context["live_topics"] = topics_query(live.LIST_TOPIC, user_id=request.user.pk)  # rows pushed to the list
    return render(request, LIST_TEMPLATE, context)


@require_GET
@capability_required("customers.view")
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(customer_id)
    context = {"customer": customer, "health": _health_card(customer), **_capabilities(request.user)}
    return render(request, DETAIL_TEMPLATE, context)


def _signed(points: int) -> str:
    return f"+{points}" if points > 0 else f"−{-points}" if points < 0 else "0"  # a real minus sign, for readers


def _health_card(customer: Customer) -> dict[str, Any]:
    """What templates/customers/_health_card.html shows: drivers with their bars, and the history chart."""
    history = selectors.customer_health_history(customer_id=customer.pk)
    days = selectors.HEALTH_HISTORY_DAYS
    drivers = [
        {**driver, "width": min(100, abs(driver["points"]) * 5), "shown": _signed(driver["points"])}  # 20 fill a bar
        for driver in customer.health_drivers
    ]
    return {"drivers": drivers, "chart": health_chart(history, days=days, today=timezone.localdate()), "days": days}


@require_GET
@capability_required("customers.view")
def customer_export(request: HttpRequest) -> StreamingHttpResponse:
    query = CustomerFilterForm(request.GET).query(user=request.user)
    rows = selectors.customer_export_rows(filters=query.filters, sort=query.sort)
    return _csv_response(rows, "customers")


def _csv_response(rows, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Customer create, edit, delete (modals) -----------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("customers.edit")
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        customer = services.customer_create(actor=request.user, **form.service_data())
        messages.success(request, f"Added {customer.name}.")
        if request.htmx:
            return modal_done(live.row_inserted_oob(customer))
        return redirect("customers:customer_detail", customer_id=customer.pk)
    context = {"form": form, "industries": selectors.customer_industries()}
    return render_modal(request, "customers/customer_form.html", context)


@require_http_methods(["GET", "POST"])
@capability_required("customers.edit")
def customer_update(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(customer_id)
    form = CustomerForm(request.POST if request.method == "POST" else None, instance=customer)
    if request.method == "POST" and form.is_valid():
        services.customer_update(customer=customer, actor=request.user, data=form.service_data())
        messages.success(request, f"Saved {form.cleaned_data['name']}.")
        if not request.htmx:
            return redirect("customers:customer_detail", customer_id=customer.pk)
        fresh = selectors.customer_get(customer_id=customer.pk)
        context = {"customer": fresh, "oob": True, **_capabilities(request.user)}
        card = render_to_string(f"{DETAIL_TEMPLATE}#customer-info", context, request=request)
        # Only the card: edits start on the detail page, where a list row would have no target.
        return modal_done(card)
    context = {"form": form, "customer": customer, "industries": selectors.customer_industries()}
    return render_modal(request, "customers/customer_form.html", context)


@require_http_methods(["GET", "POST"])
@capability_required("customers.delete")
def customer_delete(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(customer_id)
    blocker = selectors.delete_blocker(customer)
    if request.method == "POST" and blocker is None:
        try:
            services.customer_delete(customer=customer, actor=request.user)
        except StillInUse as error:  # a ticket arrived since the check
            blocker = str(error)
        else:
            count = customer.contact_count
            contacts = f" and its {_count(count, ('contact', 'contacts'))}" if count else ""
            messages.success(request, f"Deleted {customer.name}{contacts}.")
            url = reverse("customers:customer_list")
            return hx_redirect(request, url)
    context = {"customer": customer, "blocker": blocker}
    return render_modal(request, "customers/customer_confirm_delete.html", context)


# --- Contacts (modals on the customer page, plus a directory) -----------------------------------


def _contacts_updated(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get(customer_id=customer_id)
    context = {"customer": customer, "oob": True, **_capabilities(request.user)}
    table = render_to_string(f"{DETAIL_TEMPLATE}#customer-contacts", context, request=request)
    return modal_done(table)


@require_http_methods(["GET", "POST"])
@capability_required("customers.edit")
def contact_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(customer_id)
    form = ContactForm(request.POST if request.method == "POST" else None, customer=customer)
    if request.method == "POST" and form.is_valid():
        contact = services.contact_create(actor=request.user, customer=customer, **form.service_data())
        messages.success(request, f"Added {contact.name} to {customer.name}.")
        if request.htmx:
            return _contacts_updated(request, customer.pk)
        return redirect("customers:customer_detail", customer_id=customer.pk)
    return render_modal(request, "customers/contact_form.html", {"form": form, "customer": customer})


@require_http_methods(["GET", "POST"])
@capability_required("customers.edit")
def contact_update(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact_or_404(contact_id)
    form = ContactForm(request.POST if request.method == "POST" else None, instance=contact, customer=contact.customer)
    if request.method == "POST" and form.is_valid():
        services.contact_update(contact=contact, actor=request.user, data=form.service_data())
        messages.success(request, f"Saved {form.cleaned_data['name']}.")
        if request.htmx:
            return _contacts_updated(request, contact.customer_id)
        return redirect("customers:customer_detail", customer_id=contact.customer_id)
    context = {"form": form, "customer": contact.customer, "contact": contact}
    return render_modal(request, "customers/contact_form.html", context)


@require_http_methods(["GET", "POST"])
@capability_required("customers.edit")
def contact_delete(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact_or_404(contact_id)
    blocker = selectors.delete_blocker(contact)
    if request.method == "POST" and blocker is None:
        try:
            services.contact_delete(contact=contact, actor=request.user)
        except StillInUse as error:  # a ticket arrived since the check
            blocker = str(error)
        else:
            messages.success(request, f"Removed {contact.name} from {contact.customer.name}.")
            if request.htmx:
                return _contacts_updated(request, contact.customer_id)
            return redirect("customers:customer_detail", customer_id=contact.customer_id)
    return render_modal(request, "customers/contact_confirm_delete.html", {"contact": contact, "blocker": blocker})


@require_GET
@capability_required("customers.view")
def contact_list(request: HttpRequest) -> HttpResponse:
    form = ContactFilterForm(request.GET)
    query = form.query()
    page = selectors.contact_list(filters=query.filters, sort=query.sort, cursor=query.cursor, page_size=PAGE_SIZE)
    context = {
        "page": page,
        "filters": query.filters,
        "sort": query.sort,
        "sort_links": _sort_links(query.sort, ("name", "created")),
        "form": form,
        **_capabilities(request.user),
    }
    if wants_fragment(request, "contact-table"):
        return render_partial(request, CONTACTS_TEMPLATE, "contact-table", context)
    return render(request, CONTACTS_TEMPLATE, context)


@require_GET
@capability_required("customers.view")
def contact_export(request: HttpRequest) -> StreamingHttpResponse:
    query = ContactFilterForm(request.GET).query()
    return _csv_response(selectors.contact_export_rows(filters=query.filters, sort=query.sort), "contacts")


# --- CSV import ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportKind:
    slug: str
    title: str
    noun: tuple[str, str]
    columns: Any
    run: Any
    page_url: str
    done_url: str
    example: str


IMPORT_KINDS = {
    "customers": ImportKind(
        slug="customers",
        title="Import customers",
        noun=("customer", "customers"),
        columns=CUSTOMER_COLUMNS,
        run=services.customers_import_csv,
        page_url="customers:customer_import",
        done_url="customers:customer_list",
        example=(
            "name,domain,tier,owner_email,tags\n"
            'Acme Inc.,acme.com,enterprise,dana@example.com,"vip, emea"\n'
            "Globex,globex.com,starter,,\n"
        ),
    ),
    "contacts": ImportKind(
        slug="contacts",
        title="Import contacts",
        noun=("contact", "contacts"),
        columns=CONTACT_COLUMNS,
        run=services.contacts_import_csv,
        page_url="customers:contact_import",
        done_url="customers:contact_list",
        example=(
            "customer_domain,name,email,phone,title\n"
            "acme.com,Jane Doe,jane@acme.com,+1 555 0100,Head of Support\n"
            "globex.com,Hank Scorpio,hank@globex.com,,CEO\n"
        ),
    ),
}


def _count(count: int, noun: tuple[str, str]) -> str:
    return f"{count} {noun[0] if count == 1 else noun[1]}"


@require_http_methods(["GET", "POST"])
@capability_required("customers.import")
def customer_import(request: HttpRequest) -> HttpResponse:
    return _import(request, IMPORT_KINDS["customers"])


@require_http_methods(["GET", "POST"])
@capability_required("customers.import")
def contact_import(request: HttpRequest) -> HttpResponse:
    return _import(request, IMPORT_KINDS["contacts"])


def _import(request: HttpRequest, kind: ImportKind) -> HttpResponse:
    form = CsvImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "kind": kind, "max_bytes": settings.CSV_IMPORT_MAX_BYTES}
    if request.method != "POST" or not form.is_valid():
        return render(request, IMPORT_TEMPLATE, context)
    file = form.cleaned_data["file"]
    try:
        result = kind.run(file=file, actor=request.user, mode=form.cleaned_data["mode"])
    except ValidationError as error:
        form.add_error("file", error)
        status = 413 if error.code == "too_big" else 200
        return render(request, IMPORT_TEMPLATE, context, status=status)
    if result.created and not result.errors:
        messages.success(request, f"Imported {_count(result.created, kind.noun)}.")
        return redirect(kind.done_url)
    if result.blocked:
        file.seek(0)
        context["token"] = services.import_stash(content=file.read(), actor=request.user, kind=kind.slug)
    context["result"] = result
    return render(request, IMPORT_TEMPLATE, context)


@require_POST
@capability_required("customers.import")
def import_confirm(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    """The preview's two buttons: import the valid rows only, or import nothing."""
    import_kind = IMPORT_KINDS.get(kind)
    if import_kind is None:
        raise Http404("Unknown import.")
    content = services.import_unstash(token=token, actor=request.user, kind=kind)
    if request.POST.get("action") != ImportMode.VALID_ONLY:
        messages.info(request, "Nothing was imported.")
        return redirect(import_kind.page_url)
    if content is None:
        messages.warning(request, "That preview has expired. Please upload the file again.")
        return redirect(import_kind.page_url)
    try:
        result = import_kind.run(file=ContentFile(content), actor=request.user, mode=ImportMode.VALID_ONLY)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(import_kind.page_url)
    if not result.created:
        messages.warning(request, "Nothing was imported: none of the rows is valid any more.")
        return redirect(import_kind.page_url)
    skipped = f"; skipped {_count(len(result.errors), ('row', 'rows'))} with problems" if result.errors else ""
    messages.success(request, f"Imported {_count(result.created, import_kind.noun)}{skipped}.")
    return redirect(import_kind.done_url)
