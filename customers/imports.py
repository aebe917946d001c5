"""Checking every row of a customer or contact CSV before anything is written: the plan services.py executes.

Messages name the row as the spreadsheet numbers it (header = row 1) and say what to change. Lookups are done
once per file (owners, existing domains and names, companies for contacts), never once per row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower

from core.csv_io import (
    Columns,
    CsvTable,
    ImportPlan,
    RowError,
    cell,
    check_cell,
    extra_cells,
    map_header,
    too_long,
)
from core.validation import validate_international_email

from .models import Contact, Customer
from .validators import normalize_domain, normalize_phone, normalize_tags, parse_tier

CUSTOMER_COLUMNS = Columns(
    known=("name", "domain", "industry", "tier", "owner_email", "tags"),
    required=("name",),
    aliases={
        "company": "name",
        "company_name": "name",
        "customer": "name",
        "website": "domain",
        "url": "domain",
        "owner": "owner_email",
        "plan": "tier",
        "tag": "tags",
    },
    ignored=("id", "contacts", "created", "updated"),
)

CONTACT_COLUMNS = Columns(
    known=("customer", "customer_domain", "name", "email", "phone", "title"),
    required=("name",),
    aliases={
        "company": "customer",
        "company_name": "customer",
        "customer_name": "customer",
        "company_domain": "customer_domain",
        "full_name": "name",
        "contact": "name",
        "email_address": "email",
        "phone_number": "phone",
        "job_title": "title",
    },
    ignored=("id", "created", "updated"),
)


# Shared with every CSV import (core.csv_io); the short names keep this module's rules readable.
_check = check_cell
_too_long = too_long
_extra_cells = extra_cells


def _valid_domains(raw_domains: Iterable[str]) -> set[str]:
    """Normalised domains of a file, for one lookup query; invalid ones are reported per row later."""
    domains: set[str] = set()
    for raw in raw_domains:
        with contextlib.suppress(ValidationError):
            domains.add(normalize_domain(raw))
    return domains - {""}


# --- Customers ----------------------------------------------------------------------------------


def plan_customer_import(table: CsvTable) -> ImportPlan:
    positions = map_header(table.header, CUSTOMER_COLUMNS)
    rows = [(number, {name: cell(cells, positions, name) for name in positions}, cells) for number, cells in table.rows]
    context = _CustomerContext.load(rows)
    plan = ImportPlan(total_rows=len(rows))
    for number, values, cells in rows:
        messages = _extra_cells(cells, table.header)
        customer = _customer_from_row(values, context, messages)
        if messages:
            plan.errors.append(RowError(row=number, label=values.get("name", ""), messages=tuple(messages)))
        else:
            context.remember(customer, number)
            plan.valid.append(customer)
    return plan


@dataclass
class _CustomerContext:
    owners: dict[str, Any]
    existing_domains: dict[str, str]
    existing_names: set[str]
    seen_domains: dict[str, int] = field(default_factory=dict)
    seen_names: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, rows: list[tuple[int, dict[str, str], list[str]]]) -> _CustomerContext:
        emails = {values.get("owner_email", "").lower() for _, values, _ in rows} - {""}
        domains = _valid_domains(values.get("domain", "") for _, values, _ in rows)
        names = {values.get("name", "").lower() for _, values, _ in rows} - {""}
        users = get_user_model().objects.filter(email__in=emails)
        existing = Customer.objects.filter(domain__in=domains).values_list("domain", "name")
        taken_names = Customer.objects.annotate(lname=Lower("name")).filter(lname__in=names)
        return cls(
            owners={user.email.lower(): user for user in users},
            existing_domains=dict(existing),
            existing_names=set(taken_names.values_list("lname", flat=True)),
        )

    def remember(self, customer: Customer, row: int) -> None:
        if customer.domain:
            self.seen_domains.setdefault(customer.domain, row)
        self.seen_names.setdefault(customer.name.lower(), row)


def _customer_from_row(values: dict[str, str], context: _CustomerContext, messages: list[str]) -> Customer:
    name = values.get("name", "")
    if not name:
        messages.append("The name is empty; every customer needs one.")
    _too_long(messages, "The name", name, 200)
    industry = values.get("industry", "")
    _too_long(messages, "The industry", industry, 100)
    domain = _check(messages, lambda: normalize_domain(values.get("domain", ""))) or ""
    tier = _check(messages, lambda: parse_tier(values.get("tier", "")))
    tags = _check(messages, lambda: normalize_tags(values.get("tags", ""))) or []
    owner = _owner(values.get("owner_email", ""), context, messages)
    _duplicate(name, domain, context, messages)
    return Customer(name=name, domain=domain, industry=industry, tier=tier or "", owner=owner, tags=tags)


def _owner(email: str, context: _CustomerContext, messages: list[str]) -> Any:
    if not email:
        return None
    owner = context.owners.get(email.lower())
    if owner is None:
        messages.append(f"No teammate has the e-mail address {email}. Invite them first or leave owner_email empty.")
    elif not owner.is_active:
        messages.append(f"{email} is deactivated and cannot own customers.")
        return None
    return owner


def _duplicate(name: str, domain: str, context: _CustomerContext, messages: list[str]) -> None:
    """Same domain = same company. Without a domain, the same name is the best hint we have."""
    if domain and domain in context.existing_domains:
        messages.append(
            f"{domain} already belongs to the customer “{context.existing_domains[domain]}”; "
            "import only adds new customers."
        )
    elif domain and domain in context.seen_domains:
        messages.append(f"Row {context.seen_domains[domain]} already has the domain {domain}.")
    elif not domain and name.lower() in context.existing_names:
        messages.append(f"A customer named “{name}” already exists. Add its domain if this is a different company.")
    elif not domain and name.lower() in context.seen_names:
        messages.append(f"Row {context.seen_names[name.lower()]} already adds “{name}”.")


# --- Contacts -----------------------------------------------------------------------------------


def plan_contact_import(table: CsvTable) -> ImportPlan:
    positions = map_header(table.header, CONTACT_COLUMNS)
    if "customer" not in positions and "customer_domain" not in positions:
        raise ValidationError(
            "Say which customer each contact works for: add a “customer” (company name) or “customer_domain” column.",
            code="bad_header",
        )
    rows = [(number, {name: cell(cells, positions, name) for name in positions}, cells) for number, cells in table.rows]
    context = _ContactContext.load(rows)
    plan = ImportPlan(total_rows=len(rows))
    for number, values, cells in rows:
        messages = _extra_cells(cells, table.header)
        contact = _contact_from_row(values, context, messages)
        if messages:
            plan.errors.append(RowError(row=number, label=values.get("name", ""), messages=tuple(messages)))
        else:
            context.remember(contact, number)
            plan.valid.append(contact)
    return plan


@dataclass
class _ContactContext:
    by_domain: dict[str, Customer]
    by_name: dict[str, list[Customer]]
    existing_emails: set[tuple[int, str]]
    seen_emails: dict[tuple[int, str], int] = field(default_factory=dict)

    @classmethod
    def load(cls, rows: list[tuple[int, dict[str, str], list[str]]]) -> _ContactContext:
        domains = _valid_domains(values.get("customer_domain", "") for _, values, _ in rows)
        names = {values.get("customer", "").lower() for _, values, _ in rows} - {""}
        customers = Customer.objects.annotate(lname=Lower("name")).filter(Q(domain__in=domains) | Q(lname__in=names))
        by_domain: dict[str, Customer] = {}
        by_name: dict[str, list[Customer]] = {}
        for customer in customers.order_by("id"):
            if customer.domain:
                by_domain.setdefault(customer.domain, customer)
            by_name.setdefault(customer.lname, []).append(customer)
        emails = Contact.objects.filter(customer__in=customers).annotate(lemail=Lower("email"))
        return cls(
            by_domain=by_domain,
            by_name=by_name,
            existing_emails=set(emails.values_list("customer_id", "lemail")),
        )

    def remember(self, contact: Contact, row: int) -> None:
        if contact.email:
            self.seen_emails.setdefault((contact.customer_id, contact.email), row)


def _contact_from_row(values: dict[str, str], context: _ContactContext, messages: list[str]) -> Contact:
    name = values.get("name", "")
    if not name:
        messages.append("The name is empty; every contact needs one.")
    _too_long(messages, "The name", name, 200)
    title = values.get("title", "")
    _too_long(messages, "The title", title, 120)
    email = values.get("email", "").lower()
    if email:
        _check(messages, lambda: validate_international_email(email))
    phone = _check(messages, lambda: normalize_phone(values.get("phone", ""))) or ""
    _too_long(messages, "The phone number", phone, 40)
    customer = _contact_customer(values, context, messages)
    if customer is not None and email:
        key = (customer.pk, email)
        if key in context.existing_emails:
            messages.append(f"{email} is already a contact at {customer.name}.")
        elif key in context.seen_emails:
            messages.append(f"Row {context.seen_emails[key]} already adds {email} at {customer.name}.")
    return Contact(customer=customer, name=name, email=email, phone=phone, title=title)


def _contact_customer(values: dict[str, str], context: _ContactContext, messages: list[str]) -> Customer | None:
    raw_domain, raw_name = values.get("customer_domain", ""), values.get("customer", "")
    domain = _check(messages, lambda: normalize_domain(raw_domain)) if raw_domain else ""
    if domain:
        customer = context.by_domain.get(domain)
        if customer is None:
            messages.append(f"No customer has the domain {domain}. Import or add the customer first.")
        return customer
    if not raw_name:
        if not raw_domain:
            messages.append("The customer is empty; say which company this person works for.")
        return None
    matches = context.by_name.get(raw_name.lower(), [])
    if not matches:
        messages.append(f"No customer is named “{raw_name}”. Import or add the customer first.")
        return None
    if len(matches) > 1:
        messages.append(f"{len(matches)} customers are named “{raw_name}”; fill in customer_domain to say which one.")
        return None
    return matches[0]
