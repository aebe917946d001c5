"""Checking every row of a lead CSV before anything is written, with the row-by-row report customers' import has.

Rows are matched with what exists: an open lead with the same contact email and title is a duplicate (so an
import run twice adds nothing); companies and contacts are linked by the contact's email, then the company's
domain or name, through customers.facade. Unknown ones stay as the lead's prospect details, created on a win.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from core.csv_io import (
    Columns,
    CsvImportResult,
    CsvTable,
    ImportMode,
    ImportPlan,
    RowError,
    cell,
    check_cell,
    extra_cells,
    map_header,
    read_csv,
    too_long,
)
from core.validation import validate_international_email
from customers import facade as customers

from . import selectors, services
from .models import Lead, LeadSource, StageKind

CHUNK = 500  # rows looked up and written together: bounded queries and memory whatever the file's size

LEAD_COLUMNS = Columns(
    known=(
        "title", "company_name", "company_domain", "contact_name", "contact_email", "value", "currency", "stage",
        "owner_email", "source", "expected_close", "tags",
    ),
    required=("title",),
    aliases={
        "deal": "title", "lead": "title", "name": "title", "company": "company_name", "domain": "company_domain",
        "website": "company_domain", "contact": "contact_name", "email": "contact_email", "amount": "value",
        "owner": "owner_email", "close_date": "expected_close", "tag": "tags",
    },
    ignored=("id", "created", "updated", "probability"),
)  # fmt: skip


@dataclass
class _Context:
    owners: dict[str, Any]
    stages: dict[str, Any]
    open_keys: set[tuple[str, str]]
    seen: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def load(cls, rows: list[tuple[int, dict[str, str], list[str]]]) -> _Context:
        emails = {values.get("owner_email", "").lower() for _, values, _ in rows} - {""}
        contact_emails = {values.get("contact_email", "").lower() for _, values, _ in rows} - {""}
        pipeline = services.pipeline_default_get_or_create()
        stages = {stage.name.lower(): stage for stage in selectors.stage_list(pipeline=pipeline)}
        open_leads = (
            Lead.objects.open()
            .annotate(lemail=Lower("contact_email"), ltitle=Lower("title"))
            .filter(lemail__in=contact_emails)
            .values_list("lemail", "ltitle")
        )
        users = get_user_model().objects.filter(email__in=emails)
        return cls(owners={user.email.lower(): user for user in users}, stages=stages, open_keys=set(open_leads))


def plan_lead_import(table: CsvTable) -> ImportPlan:
    positions = map_header(table.header, LEAD_COLUMNS)
    rows = [(number, {name: cell(cells, positions, name) for name in positions}, cells) for number, cells in table.rows]
    context = _Context.load(rows)
    plan = ImportPlan(total_rows=len(rows))
    for number, values, cells in rows:
        messages = extra_cells(cells, table.header)
        lead = _lead_from_row(values, context, messages, number)
        if messages:
            plan.errors.append(RowError(row=number, label=values.get("title", ""), messages=tuple(messages)))
        else:
            plan.valid.append(lead)
    return plan


def _lead_from_row(values: dict[str, str], context: _Context, messages: list[str], number: int) -> dict[str, Any]:
    title = values.get("title", "")
    if not title:
        messages.append("The title is empty; every lead needs one.")
    too_long(messages, "The title", title, 200)
    for name, label, limit in (("company_name", "The company", 200), ("contact_name", "The contact's name", 200)):
        too_long(messages, label, values.get(name, ""), limit)
    email = values.get("contact_email", "").lower()
    if email:
        check_cell(messages, lambda: validate_international_email(email))
    lead = {
        "title": title,
        "company_name": values.get("company_name", ""),
        "company_domain": values.get("company_domain", ""),
        "contact_name": values.get("contact_name", ""),
        "contact_email": email,
        "value": _value(values.get("value", ""), messages),
        "currency": _currency(values.get("currency", ""), messages),
        "stage": _stage(values.get("stage", ""), context, messages),
        "owner": _owner(values.get("owner_email", ""), context, messages),
        "source": _source(values.get("source", ""), messages),
        "expected_close": _date(values.get("expected_close", ""), messages),
        "tags": values.get("tags", ""),
    }
    _duplicate(email, title, context, messages, number)
    return lead


def _value(raw: str, messages: list[str]) -> Decimal:
    text = raw.replace(",", "").replace(" ", "")
    try:
        value = Decimal(text or "0")
    except InvalidOperation:
        messages.append(f"The value “{raw}” is not a number; write it like 12500 or 12500.50.")
        return Decimal(0)
    if value < 0:
        messages.append("The value cannot be negative.")
    return value


def _currency(raw: str, messages: list[str]) -> str:
    currency = (raw or "USD").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        messages.append(f"The currency “{raw}” is not a three-letter code like USD or EUR.")
    return currency


def _stage(raw: str, context: _Context, messages: list[str]) -> Any:
    if not raw:
        return None
    stage = context.stages.get(raw.lower())
    if stage is None:
        names = ", ".join(stage.name for stage in context.stages.values())
        messages.append(f"No stage is named “{raw}”; use one of {names}.")
    elif stage.kind != StageKind.OPEN:
        messages.append(f"Import adds open leads; “{stage.name}” is a closed stage.")
    return stage


def _owner(email: str, context: _Context, messages: list[str]) -> Any:
    if not email:
        return None
    owner = context.owners.get(email.lower())
    if owner is None or not owner.is_active:
        messages.append(f"No active teammate has the e-mail address {email}. Invite them or leave owner_email empty.")
        return None
    return owner


def _source(raw: str, messages: list[str]) -> str:
    if not raw:
        return LeadSource.OTHER
    by_name = {value: value for value, _ in LeadSource.choices} | {
        label.lower(): value for value, label in LeadSource.choices
    }
    source = by_name.get(raw.strip().lower())
    if source is None:
        messages.append(f"The source “{raw}” is unknown; use one of {', '.join(LeadSource.values)}.")
        return LeadSource.OTHER
    return source


def _date(raw: str, messages: list[str]) -> datetime.date | None:
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        messages.append(f"The close date “{raw}” is not a date like 2026-03-31.")
        return None


def _duplicate(email: str, title: str, context: _Context, messages: list[str], number: int) -> None:
    """Same contact email and title as an open lead, or as an earlier row: the same deal."""
    if not email or not title:
        return
    key = (email, title.lower())
    if key in context.open_keys:
        messages.append(f"An open lead “{title}” for {email} already exists; import only adds new leads.")
    elif key in context.seen:
        messages.append(f"Row {context.seen[key]} already adds “{title}” for {email}.")
    else:
        context.seen[key] = number


def leads_import_csv(*, file, actor, mode: str = ImportMode.ALL_OR_NOTHING) -> CsvImportResult:
    """Adds the leads of a CSV file. File-level problems raise ValidationError; row problems are returned.

    With ALL_OR_NOTHING one bad row means nothing is written; with VALID_ONLY the good rows are. Each lead is
    linked to the existing company and contact its details name (never creating them: that waits for a win).
    """
    if mode not in {ImportMode.ALL_OR_NOTHING, ImportMode.VALID_ONLY}:
        raise ValueError(f"Unknown import mode {mode!r}.")
    plan = plan_lead_import(read_csv(file, max_bytes=settings.CSV_IMPORT_MAX_BYTES))
    if not plan.total_rows:
        raise ValidationError("The file has a header but no rows to import.", code="no_rows")
    if (plan.errors and mode == ImportMode.ALL_OR_NOTHING) or not plan.valid:
        return CsvImportResult(mode=mode, total_rows=plan.total_rows, created=0, errors=plan.errors)
    with transaction.atomic():
        for start in range(0, len(plan.valid), CHUNK):
            _create_chunk(plan.valid[start : start + CHUNK], actor)
    return CsvImportResult(mode=mode, total_rows=plan.total_rows, created=len(plan.valid), errors=plan.errors)


def _create_chunk(rows: list[dict[str, Any]], actor) -> None:
    """A chunk's companies and contacts are looked up together (three queries), then its leads written at once."""
    existing = customers.prospects_match(
        [(row["contact_email"], row["company_domain"], row["company_name"]) for row in rows]
    )
    services.lead_bulk_create(
        actor=actor,
        rows=[
            {**row, "customer": customer, "contact": contact}
            for row, (customer, contact) in zip(rows, existing, strict=True)
        ],
    )
