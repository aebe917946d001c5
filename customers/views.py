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
from core.forms import add_service_errors
from core.htmx import hx_redirect, modal_done, render_modal, render_partial, wants_fragment
from core.realtime import topics_query

from . import live, panels, selectors, services
from .csv_io import csv_lines
from .forms import (
    ChurnForm,
    ContactFilterForm,
    ContactForm,
    CsvImportForm,
    CustomerFilterForm,
    CustomerForm,
    NoteForm,
    TaskForm,
    TimelineFilterForm,
)
from .health_chart import health_chart
from .imports import CONTACT_COLUMNS, CUSTOMER_COLUMNS
from .models import Contact, Customer, Note, Task
from .services import ImportMode
from .timeline import timeline_kinds

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
        "sort_links": _sort_links(query.sort, ("name", "tier", "health", "churn", "created")),
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
    context = {
        "customer": customer,
        "health": _health_card(customer),
        "churn": _churn_card(customer),
        "company_panels": panels.company_panels(customer_id=customer.pk, user=request.user),
        "live_topics": topics_query(live.company_topic(customer.pk), user_id=request.user.pk),
        **_capabilities(request.user),
        **_activity_context(request, Subject(customer)),
    }
    return render(request, DETAIL_TEMPLATE, context)


def _churn_card(customer: Customer) -> dict[str, Any]:
    """What templates/customers/_churn.html shows: the risk in %, its reasons and who made it, and the mark form."""
    from .churn import HEURISTIC, heuristic_label

    risk = customer.churn_risk
    return {
        "percent": None if risk is None else round(100 * risk),
        "heuristic": customer.churn_risk_source == HEURISTIC,
        "heuristic_label": heuristic_label() if customer.churn_risk_source == HEURISTIC else "",
        "form": ChurnForm(initial={"churned_at": timezone.localdate()}),
    }


@require_POST
@capability_required("customers.edit")
def customer_churn_mark(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(customer_id)
    form = ChurnForm(request.POST)
    if form.is_valid():
        try:
            services.customer_churn_mark(
                customer=customer,
                actor=request.user,
                churned_at=form.cleaned_data["churned_at"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Marked {customer.name} churned.")
    else:
        problems = (f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items())
        messages.error(request, " ".join(problems))
    return hx_redirect(request, reverse("customers:customer_detail", args=[customer.pk]))


@require_POST
@capability_required("customers.edit")
def customer_churn_unmark(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(customer_id)
    services.customer_churn_unmark(customer=customer, actor=request.user)
    messages.success(request, f"{customer.name} is a customer again.")
    return hx_redirect(request, reverse("customers:customer_detail", args=[customer.pk]))


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


# --- Contact page, timeline, notes and tasks ----------------------------------------------------

CONTACT_TEMPLATE = "customers/contact_detail.html"
TIMELINE_TEMPLATE = "customers/_timeline.html"
NOTES_TASKS_TEMPLATE = "customers/_notes_tasks.html"
TIMELINE_CHANGED = "timeline-changed"  # HX-Trigger after a note or task write: the timeline reloads its first page
RECENT_TICKETS = 8


@dataclass(frozen=True)
class Subject:
    """Whose notes, tasks and timeline a fragment shows: a company, or one person at it."""

    customer: Customer
    contact: Contact | None = None

    @property
    def ids(self) -> dict[str, int]:
        return {"contact_id": self.contact.pk} if self.contact else {"customer_id": self.customer.pk}

    def url(self, name: str) -> str:
        prefix = "contact" if self.contact else "customer"
        return reverse(f"customers:{prefix}_{name}", kwargs=self.ids)


def _timeline_rows(entries) -> list[dict[str, Any]]:
    kinds = {kind.name: kind for kind in timeline_kinds()}
    return [{"entry": entry, "kind": kinds.get(entry.kind)} for entry in entries]


def _timeline_context(request: HttpRequest, subject: Subject) -> dict[str, Any]:
    form = TimelineFilterForm(request.GET)
    query = form.query()
    selector = selectors.contact_timeline if subject.contact else selectors.customer_timeline
    page = selector(**subject.ids, **query)
    more = None
    if page.next_cursor:
        params = request.GET.copy()
        params["cursor"] = page.next_cursor
        more = f"{subject.url('timeline')}?{params.urlencode()}"
    return {
        "subject": subject,
        "timeline_form": form,
        "timeline_rows": _timeline_rows(page.entries),
        "timeline_more_url": more,
        "timeline_url": subject.url("timeline"),
        "timeline_filtered": bool(query["kinds"] or query["since"] or query["until"]),
    }


def _notes_tasks_context(request: HttpRequest, subject: Subject, **forms_: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "notes": selectors.note_list(**subject.ids),
        "tasks": selectors.task_list(**subject.ids),
        "note_form": forms_.get("note_form") or NoteForm(auto_id="id_note_%s"),
        "task_form": forms_.get("task_form") or TaskForm(auto_id="id_task_%s"),
        "now": timezone.now(),
        "note_create_url": subject.url("note_create"),
        "task_create_url": subject.url("task_create"),
        **_capabilities(request.user),
    }


def _activity_context(request: HttpRequest, subject: Subject) -> dict[str, Any]:
    return {**_timeline_context(request, subject), **_notes_tasks_context(request, subject)}


def _subject_or_404(customer_id: int | None, contact_id: int | None) -> Subject:
    if contact_id is not None:
        contact = _contact_or_404(contact_id)
        return Subject(customer=contact.customer, contact=contact)
    return Subject(customer=_customer_or_404(customer_id))


@require_GET
@capability_required("customers.view")
def contact_detail(request: HttpRequest, contact_id: int) -> HttpResponse:
    try:
        contact = selectors.contact_detail_get(contact_id=contact_id)
    except Contact.DoesNotExist:
        raise Http404("No such contact in this workspace.") from None
    subject = Subject(customer=contact.customer, contact=contact)
    tickets = selectors.contact_timeline(contact_id=contact.pk, kinds=["ticket_opened"], limit=RECENT_TICKETS)
    context = {"contact": contact, "customer": contact.customer, "recent_tickets": tickets.entries}
    return render(request, CONTACT_TEMPLATE, {**context, **_activity_context(request, subject)})


def _timeline(request: HttpRequest, subject: Subject) -> HttpResponse:
    context = _timeline_context(request, subject)
    if wants_fragment(request, "timeline-more"):
        return render_partial(request, TIMELINE_TEMPLATE, "timeline-more", context)
    if request.htmx:
        return render_partial(request, TIMELINE_TEMPLATE, "timeline-list", context)
    # Without JavaScript, filters and "load older" land on the page itself.
    page = subject.url("detail")
    return redirect(f"{page}?{request.GET.urlencode()}#timeline" if request.GET else page)


@require_GET
@capability_required("customers.view")
def customer_timeline(request: HttpRequest, customer_id: int) -> HttpResponse:
    # "Load older" and the filters only need to know the company exists: not its contacts or owner.
    try:
        customer = selectors.customer_brief_get(customer_id=customer_id)
    except Customer.DoesNotExist:
        raise Http404("No such customer in this workspace.") from None
    return _timeline(request, Subject(customer=customer))


@require_GET
@capability_required("customers.view")
def contact_timeline(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _timeline(request, _subject_or_404(None, contact_id))


def _panel_response(request: HttpRequest, subject: Subject, *, status: int = 200, **forms_: Any) -> HttpResponse:
    response = render_partial(
        request, NOTES_TASKS_TEMPLATE, "notes-tasks", _notes_tasks_context(request, subject, **forms_), status=status
    )
    if status == 200 and not forms_:
        response["HX-Trigger"] = TIMELINE_CHANGED
    return response


def _panel_done(request: HttpRequest, subject: Subject, text: str) -> HttpResponse:
    messages.success(request, text)
    if request.htmx:
        return _panel_response(request, subject)
    return redirect(subject.url("detail"))


def _modal_panel_done(request: HttpRequest, subject: Subject, text: str) -> HttpResponse:
    messages.success(request, text)
    if not request.htmx:
        return redirect(subject.url("detail"))
    context = {**_notes_tasks_context(request, subject), "oob": True}
    response = modal_done(render_to_string(f"{NOTES_TASKS_TEMPLATE}#notes-tasks", context, request=request))
    response["HX-Trigger"] = f"{response['HX-Trigger']}, {TIMELINE_CHANGED}"
    return response


def _invalid(request: HttpRequest, subject: Subject, **forms_: Any) -> HttpResponse:
    # 200 so htmx swaps the panel with the form's messages; without JavaScript, the messages on the page.
    if request.htmx:
        return _panel_response(request, subject, **forms_)
    for form in forms_.values():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect(subject.url("detail"))


@require_POST
@capability_required("customers.edit")
def note_create(request: HttpRequest, customer_id: int | None = None, contact_id: int | None = None) -> HttpResponse:
    subject = _subject_or_404(customer_id, contact_id)
    form = NoteForm(request.POST, auto_id="id_note_%s")
    if form.is_valid():
        try:
            services.note_create(
                actor=request.user, customer=subject.customer, contact=subject.contact, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _panel_done(request, subject, "Note added.")
    return _invalid(request, subject, note_form=form)


@require_POST
@capability_required("customers.edit")
def task_create(request: HttpRequest, customer_id: int | None = None, contact_id: int | None = None) -> HttpResponse:
    subject = _subject_or_404(customer_id, contact_id)
    form = TaskForm(request.POST, auto_id="id_task_%s")
    if form.is_valid():
        try:
            services.task_create(
                actor=request.user,
                customer=subject.customer,
                contact=subject.contact,
                **form.service_data(actor=request.user),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _panel_done(request, subject, "Task added.")
    return _invalid(request, subject, task_form=form)


def _note_or_404(note_id: int) -> Note:
    try:
        return selectors.note_get(note_id=note_id)
    except Note.DoesNotExist:
        raise Http404("No such note in this workspace.") from None


def _task_or_404(task_id: int) -> Task:
    try:
        return selectors.task_get(task_id=task_id)
    except Task.DoesNotExist:
        raise Http404("No such task in this workspace.") from None


def _subject_of(row: Note | Task, request: HttpRequest) -> Subject:
    """The page the change was made on: a contact's note edited from the company page refreshes that page."""
    if row.contact_id and request.POST.get("on") != "customer":
        return Subject(customer=row.customer, contact=row.contact)
    return Subject(customer=row.customer)


@require_http_methods(["GET", "POST"])
@capability_required("customers.edit")
def note_update(request: HttpRequest, note_id: int) -> HttpResponse:
    note = _note_or_404(note_id)
    initial = {"body": note.body, "pinned": note.pinned}
    form = NoteForm(request.POST if request.method == "POST" else None, initial=initial, auto_id="id_edit_note_%s")
    if request.method == "POST" and form.is_valid():
        try:
            services.note_update(note=note, actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _modal_panel_done(request, _subject_of(note, request), "Note saved.")
    context = {"form": form, "note": note, "on": request.GET.get("on", request.POST.get("on", ""))}
    return render_modal(request, "customers/note_form.html", context)


@require_POST
@capability_required("customers.edit")
def note_delete(request: HttpRequest, note_id: int) -> HttpResponse:
    note = _note_or_404(note_id)
    subject = _subject_of(note, request)
    services.note_delete(note=note, actor=request.user)
    return _panel_done(request, subject, "Note deleted.")


@require_POST
@capability_required("customers.edit")
def note_pin(request: HttpRequest, note_id: int) -> HttpResponse:
    note = _note_or_404(note_id)
    services.note_update(note=note, actor=request.user, data={"pinned": not note.pinned})
    return _panel_done(request, _subject_of(note, request), "Note pinned." if note.pinned else "Note unpinned.")


@require_http_methods(["GET", "POST"])
@capability_required("customers.edit")
def task_update(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(task_id)
    initial = {"title": task.title, "owner": task.owner, "due_at": task.due_at, "reminder_at": task.reminder_at}
    form = TaskForm(request.POST if request.method == "POST" else None, initial=initial, auto_id="id_edit_task_%s")
    if request.method == "POST" and form.is_valid():
        try:
            services.task_update(task=task, actor=request.user, data=form.service_data(actor=request.user))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _modal_panel_done(request, _subject_of(task, request), "Task saved.")
    context = {"form": form, "task": task, "on": request.GET.get("on", request.POST.get("on", ""))}
    return render_modal(request, "customers/task_form.html", context)


@require_POST
@capability_required("customers.edit")
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(task_id)
    services.task_complete(task=task, actor=request.user)
    return _panel_done(request, _subject_of(task, request), f"Done: {task.title}.")


@require_POST
@capability_required("customers.edit")
def task_reopen(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(task_id)
    services.task_reopen(task=task, actor=request.user)
    return _panel_done(request, _subject_of(task, request), f"Reopened: {task.title}.")
