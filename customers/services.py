"""Every write to customers and contacts, and what follows it: teammates see the change live, after commit."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import IO, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.csv_io import CsvImportResult, ImportMode, ImportPlan, read_csv
from core.deletion import delete_unless_in_use
from core.reminders import due_reminders_send
from core.validation import required_text

from . import emails, live
from .imports import plan_contact_import, plan_customer_import
from .models import Contact, Customer, Note, Task
from .selectors import customer_facets_forget, customer_row
from .validators import normalize_domain, normalize_phone, normalize_tags

CUSTOMER_FIELDS = frozenset({"name", "domain", "industry", "tier", "owner", "tags"})
CONTACT_FIELDS = frozenset({"name", "email", "phone", "title"})
IMPORT_STASH_SECONDS = 30 * 60


def _announce(announcement: live.Announcement, actor) -> None:
    live.announce_on_commit(announcement, actor=actor)


def _customers_changed() -> None:
    """The list's cached industry and tag menus are rebuilt after the change commits."""
    transaction.on_commit(customer_facets_forget)


# --- Customers ----------------------------------------------------------------------------------


def _clean_customer_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - CUSTOMER_FIELDS
    if unknown:
        raise TypeError(f"Customers have no field(s) {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    for name in ("name", "industry"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if "domain" in cleaned:
        cleaned["domain"] = normalize_domain(cleaned["domain"] or "")
    if "tags" in cleaned:
        cleaned["tags"] = normalize_tags(cleaned["tags"])
    return cleaned


@transaction.atomic
def customer_create(
    *,
    actor,
    name: str,
    domain: str = "",
    industry: str = "",
    tier: str = Customer.Tier.STARTER,
    owner=None,
    tags: Iterable[str] | str = (),
) -> Customer:
    values = _clean_customer_values(
        {"name": name, "domain": domain, "industry": industry, "tier": tier, "owner": owner, "tags": tags}
    )
    customer = Customer(**values)
    customer.full_clean()
    customer.save()
    customer.contact_count = 0
    _customers_changed()
    _announce(live.customer_added(customer=customer, actor=actor), actor)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor, data: Mapping[str, Any]) -> Customer:
    """Changes only the fields in `data` (a PATCH as well as a full form)."""
    values = _clean_customer_values(data)
    changed = [name for name, value in values.items() if getattr(customer, name) != value]
    if not changed:
        return customer
    for name in changed:
        setattr(customer, name, values[name])
    customer.full_clean()
    customer.save(update_fields=[*changed, "updated"])
    _customers_changed()
    _announce(live.customer_updated(customer=customer_row(customer_id=customer.pk), actor=actor), actor)
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer, actor) -> None:
    """Deletes the customer and its contacts; StillInUse (nothing deleted) while any of them has tickets."""
    customer_id, name = customer.pk, customer.name
    delete_unless_in_use(customer)
    _customers_changed()
    _announce(live.customer_deleted(customer_id=customer_id, name=name, actor=actor), actor)


CHURN_REASON_LIMIT = 200


@transaction.atomic
def customer_churn_mark(*, customer: Customer, actor, churned_at=None, reason: str = "") -> Customer:
    """Marks the company churned on `churned_at` (today by default; not in the future, not before it was added),
    with a short reason. Its churn risk is cleared: it has left. A label for the churn model (customers/churn.py)."""
    today = timezone.localdate()
    churned_at = churned_at or today
    if churned_at > today:
        raise ValidationError({"churned_at": "The churn date cannot be in the future."})
    if churned_at < timezone.localdate(customer.created):
        raise ValidationError({"churned_at": "The churn date cannot be before the company was added."})
    reason = (reason or "").strip()
    if len(reason) > CHURN_REASON_LIMIT:
        raise ValidationError({"churn_reason": f"Keep the reason under {CHURN_REASON_LIMIT} characters."})
    customer.churned_at, customer.churn_reason = churned_at, reason
    customer.churn_risk, customer.churn_risk_source, customer.churn_drivers = None, "", []
    fields = ["churned_at", "churn_reason", "churn_risk", "churn_risk_source", "churn_drivers", "updated"]
    customer.save(update_fields=fields)
    _announce(live.customer_updated(customer=customer_row(customer_id=customer.pk), actor=actor), actor)
    return customer


@transaction.atomic
def customer_churn_unmark(*, customer: Customer, actor) -> Customer:
    """The company is a customer again (or was marked by mistake): the next health run scores its risk again."""
    if customer.churned_at is None:
        return customer
    customer.churned_at, customer.churn_reason = None, ""
    customer.save(update_fields=["churned_at", "churn_reason", "updated"])
    _announce(live.customer_updated(customer=customer_row(customer_id=customer.pk), actor=actor), actor)
    return customer


# --- Contacts -----------------------------------------------------------------------------------


def _clean_contact_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - CONTACT_FIELDS
    if unknown:
        raise TypeError(f"Contacts have no field(s) {', '.join(sorted(unknown))}.")
    cleaned = {name: (value or "").strip() for name, value in values.items()}
    if "email" in cleaned:
        cleaned["email"] = cleaned["email"].lower()
    if "phone" in cleaned:
        cleaned["phone"] = normalize_phone(cleaned["phone"])
    return cleaned


def _announce_contacts(customer: Customer, actor, text: str) -> None:
    row = customer_row(customer_id=customer.pk)
    _announce(live.contacts_changed(customer=row, actor=actor, text=text), actor)


@transaction.atomic
def contact_create(
    *, actor, customer: Customer, name: str, email: str = "", phone: str = "", title: str = ""
) -> Contact:
    values = _clean_contact_values({"name": name, "email": email, "phone": phone, "title": title})
    contact = Contact(customer=customer, **values)
    contact.full_clean()
    contact.save()
    _announce_contacts(customer, actor, f"added {contact.name} to {customer.name}")
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor, data: Mapping[str, Any]) -> Contact:
    values = _clean_contact_values(data)
    changed = [name for name, value in values.items() if getattr(contact, name) != value]
    if not changed:
        return contact
    for name in changed:
        setattr(contact, name, values[name])
    contact.full_clean()
    contact.save(update_fields=[*changed, "updated"])
    _announce_contacts(contact.customer, actor, f"updated {contact.name} at {contact.customer.name}")
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor) -> None:
    """StillInUse (nothing deleted) while the contact is the requester of tickets."""
    customer, name = contact.customer, contact.name
    delete_unless_in_use(contact)
    _announce_contacts(customer, actor, f"removed {name} from {customer.name}")


# --- CSV import ---------------------------------------------------------------------------------


def customers_import_csv(*, file: IO[bytes], actor, mode: str = ImportMode.ALL_OR_NOTHING) -> CsvImportResult:
    """Adds the customers of a CSV file. File-level problems raise ValidationError; row problems are returned.

    With ALL_OR_NOTHING, one bad row means nothing is written; with VALID_ONLY the good rows are.
    """
    table = read_csv(file, max_bytes=settings.CSV_IMPORT_MAX_BYTES)
    plan = plan_customer_import(table)
    return _execute(plan, mode=mode, actor=actor, model=Customer, noun=("customer", "customers"))


def contacts_import_csv(*, file: IO[bytes], actor, mode: str = ImportMode.ALL_OR_NOTHING) -> CsvImportResult:
    """Adds contacts to existing customers, matched by the customer's domain or exact name."""
    table = read_csv(file, max_bytes=settings.CSV_IMPORT_MAX_BYTES)
    plan = plan_contact_import(table)
    return _execute(plan, mode=mode, actor=actor, model=Contact, noun=("contact", "contacts"))


def _execute(plan: ImportPlan, *, mode: str, actor, model, noun: tuple[str, str]) -> CsvImportResult:
    if mode not in {ImportMode.ALL_OR_NOTHING, ImportMode.VALID_ONLY}:
        raise ValueError(f"Unknown import mode {mode!r}.")
    if not plan.total_rows:
        raise ValidationError("The file has a header but no rows to import.", code="no_rows")
    if (plan.errors and mode == ImportMode.ALL_OR_NOTHING) or not plan.valid:
        return CsvImportResult(mode=mode, total_rows=plan.total_rows, created=0, errors=plan.errors)
    with transaction.atomic():
        model.objects.bulk_create(plan.valid, batch_size=1000)
        if model is Customer:
            _customers_changed()
        _announce(live.imported(count=len(plan.valid), noun=noun, actor=actor), actor)
    return CsvImportResult(mode=mode, total_rows=plan.total_rows, created=len(plan.valid), errors=plan.errors)


def import_stash(*, content: bytes, actor, kind: str) -> str:
    """Keeps an uploaded file for half an hour, so "import the valid rows only" needs no second upload."""
    token = secrets.token_urlsafe(16)
    cache.set(_stash_key(actor, kind, token), content, IMPORT_STASH_SECONDS)
    return token


def import_unstash(*, token: str, actor, kind: str) -> bytes | None:
    """The stashed file, once: it is removed as it is read. None when expired or not this user's."""
    key = _stash_key(actor, kind, token)
    content = cache.get(key)
    cache.delete(key)
    return content


def _stash_key(actor, kind: str, token: str) -> str:
    # The cache's key function adds the schema; the user id keeps one teammate's upload from another.
    return f"customers:import:{kind}:{actor.pk}:{token}"


# --- Notes and tasks ----------------------------------------------------------------------------

NOTE_BODY_LIMIT = 20_000
TASK_TITLE_LIMIT = Task._meta.get_field("title").max_length
NOTE_FIELDS = frozenset({"body", "pinned"})
TASK_FIELDS = frozenset({"title", "owner", "due_at", "reminder_at"})


def _subject(customer: Customer | None, contact: Contact | None) -> tuple[Customer, Contact | None]:
    """A note or task belongs to a company; one about a person belongs to that person's company as well."""
    if contact is not None:
        if customer is not None and customer.pk != contact.customer_id:
            raise ValidationError({"contact": f"{contact.name} does not work at {customer.name}."})
        return contact.customer, contact
    if customer is None:
        raise ValidationError("A note or task needs a company or a contact.")
    return customer, None


def _checked_fields(data: Mapping[str, Any], allowed: frozenset[str], noun: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise TypeError(f"{noun} have no field(s) {', '.join(sorted(unknown))}.")


@transaction.atomic
def note_create(
    *, actor, body: str, customer: Customer | None = None, contact: Contact | None = None, pinned: bool = False
) -> Note:
    customer, contact = _subject(customer, contact)
    body = required_text(body, field="body", label="The note", limit=NOTE_BODY_LIMIT)
    note = Note.objects.create(customer=customer, contact=contact, body=body, pinned=bool(pinned), author=actor)
    live.company_notes_changed(customer_id=customer.pk, actor=actor, text=f"added a note on {customer.name}")
    return note


@transaction.atomic
def note_update(*, note: Note, actor, data: Mapping[str, Any]) -> Note:
    _checked_fields(data, NOTE_FIELDS, "Notes")
    if "body" in data:
        note.body = required_text(data["body"], field="body", label="The note", limit=NOTE_BODY_LIMIT)
    if "pinned" in data:
        note.pinned = bool(data["pinned"])
    note.save()
    live.company_notes_changed(customer_id=note.customer_id, actor=actor, text="changed a note")
    return note


@transaction.atomic
def note_delete(*, note: Note, actor) -> None:
    note.delete()
    live.company_notes_changed(customer_id=note.customer_id, actor=actor, text="deleted a note")


def _same_minute(new, old) -> bool:
    """The edit form shows times to the minute: saving it unchanged must not re-arm a reminder set to the second."""
    if new is None or old is None:
        return new is old
    return abs((new - old).total_seconds()) < 60


def _task_times(due_at, reminder_at) -> None:
    if due_at is not None and reminder_at is not None and reminder_at > due_at:
        raise ValidationError({"reminder_at": "The reminder must come before the task is due."})


@transaction.atomic
def task_create(
    *,
    actor,
    title: str,
    customer: Customer | None = None,
    contact: Contact | None = None,
    owner=None,
    due_at=None,
    reminder_at=None,
) -> Task:
    customer, contact = _subject(customer, contact)
    title = required_text(title, field="title", label="The task", limit=TASK_TITLE_LIMIT)
    _task_times(due_at, reminder_at)
    task = Task.objects.create(
        customer=customer,
        contact=contact,
        title=title,
        owner=owner if owner is not None else actor,
        created_by=actor,
        due_at=due_at,
        reminder_at=reminder_at,
    )
    live.company_notes_changed(customer_id=customer.pk, actor=actor, text=f"added a task: {title}")
    return task


@transaction.atomic
def task_update(*, task: Task, actor, data: Mapping[str, Any]) -> Task:
    _checked_fields(data, TASK_FIELDS, "Tasks")
    fields = ["updated"]
    if "title" in data:
        task.title = required_text(data["title"], field="title", label="The task", limit=TASK_TITLE_LIMIT)
        fields.append("title")
    if "owner" in data:
        task.owner = data["owner"]
        fields.append("owner")
    if "due_at" in data:
        task.due_at = data["due_at"]
        fields.append("due_at")
    if "reminder_at" in data and not _same_minute(data["reminder_at"], task.reminder_at):
        task.reminder_at = data["reminder_at"]
        task.reminder_sent_at = None  # a new reminder time is a new reminder
        fields += ["reminder_at", "reminder_sent_at"]
    _task_times(task.due_at, task.reminder_at)
    # Only what changed: the reminder job may have marked this task's reminder sent since it was read.
    task.save(update_fields=fields)
    live.company_notes_changed(customer_id=task.customer_id, actor=actor, text=f"changed a task: {task.title}")
    return task


@transaction.atomic
def task_complete(*, task: Task, actor, now=None) -> Task:
    if not task.done:
        task.done, task.done_at = True, now or timezone.now()
        task.save(update_fields=["done", "done_at", "updated"])
        live.company_notes_changed(customer_id=task.customer_id, actor=actor, text=f"completed a task: {task.title}")
    return task


@transaction.atomic
def task_reopen(*, task: Task, actor) -> Task:
    if task.done:
        task.done, task.done_at = False, None
        task.save(update_fields=["done", "done_at", "updated"])
        live.company_notes_changed(customer_id=task.customer_id, actor=actor, text=f"reopened a task: {task.title}")
    return task


def task_reminders_send(*, now=None) -> int:
    """Emails each task's owner once its reminder time has passed; returns how many reminders went out
    (core.reminders: claimed with SKIP LOCKED, marked sent in the same transaction, emailed after commit)."""
    return due_reminders_send(
        Task.objects.filter(done=False, owner__isnull=False, owner__is_active=True).select_related(
            "owner", "customer", "contact"
        ),
        remind_field="reminder_at",
        sent_field="reminder_sent_at",
        send_on_commit=lambda task: emails.task_reminder_send_on_commit(task=task),
        now=now,
    )
