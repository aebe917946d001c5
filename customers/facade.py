"""What other apps may ask of customers: find or create the person behind an email address, look contacts up,
and the customer tiers other apps match on. Writes go through customers.services (validation, cache
invalidation, live updates on teammates' pages), reads through customers.selectors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Func, QuerySet, Value
from django.db.models.functions import Lower, Upper

from . import panels, selectors, services, timeline
from .contracts import CompanyPanel, CustomerBrief, HealthDrop, TimelineProvider
from .models import Contact, Customer
from .validators import normalize_domain

__all__ = [
    "CUSTOMER_TIER_CHOICES",
    "INDIVIDUALS",
    "Contact",  # the model a ticket's requester points at: other apps hold contacts through foreign keys
    "company_panel_register",
    "contact_customer_id",
    "contact_for_email",
    "contact_for_phone",
    "contact_match",
    "contact_queryset",
    "contact_requester_rows",
    "contact_search",
    "customer_and_contact_resolve",
    "customer_choices",
    "customer_match",
    "customer_name",
    "prospects_match",
    "timeline_provider_register",
]

CUSTOMER_TIER_CHOICES = Customer.Tier.choices

# Addresses at these domains belong to people, not companies: their senders share one "Individuals" customer.
PERSONAL_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de",
        "mail.com", "yandex.com", "zoho.com", "example.com",
    }
)  # fmt: skip
INDIVIDUALS = "Individual requesters"


def contact_for_email(*, email: str, name: str = "", actor=None) -> Contact:
    """The contact with this address (case-insensitive), created when unknown.

    A new contact joins the customer whose web domain matches the address's, else a new customer named after
    that domain; addresses at personal-mail domains (gmail.com…) or without a web domain join the shared
    "Individual requesters". `actor` is who caused it (None: the requester themselves, by email or form).
    """
    email = email.strip().lower()
    contact = Contact.objects.filter(email__iexact=email).select_related("customer").order_by("id").first()
    if contact is not None:
        return contact
    with transaction.atomic():
        customer = _customer_for_domain(email.rpartition("@")[2], actor)
        name = name.strip()[: Contact._meta.get_field("name").max_length] or email.partition("@")[0]
        return services.contact_create(actor=actor, customer=customer, name=name, email=email)


def _customer_for_domain(domain: str, actor) -> Customer:
    try:
        domain = normalize_domain(domain)
    except ValidationError:
        domain = ""  # "localhost" and the like: no company to file the requester under
    if domain in PERSONAL_EMAIL_DOMAINS or not domain:
        individuals = Customer.objects.filter(name=INDIVIDUALS, domain="").order_by("id").first()
        return individuals or services.customer_create(actor=actor, name=INDIVIDUALS, tags=["individuals"])
    customer = Customer.objects.filter(domain__iexact=domain).order_by("id").first()
    return customer or services.customer_create(actor=actor, name=domain, domain=domain, tags=["from-helpdesk"])


def contact_queryset() -> QuerySet[Contact]:
    """Every contact, for choosing a requester by id."""
    return Contact.objects.all()


def contact_search(*, text: str, limit: int = 8) -> list[Contact]:
    """Contacts whose name or email address contains `text` (at least two characters), with their customer."""
    return selectors.contact_search(text=text, limit=limit)


def contact_requester_rows() -> list[tuple[int, int, str, str, datetime]]:
    """(contact id, customer id, customer tier, name, created) of every contact, oldest first (demo history)."""
    return selectors.contact_requester_rows()


# --- leads: matching prospects with existing companies and people ---


def contact_match(*, email: str) -> Contact | None:
    """The oldest contact with this address (case-insensitive), with its customer; None when unknown or blank."""
    email = (email or "").strip()
    if not email:
        return None
    return Contact.objects.filter(email__iexact=email).select_related("customer").order_by("id").first()


def customer_match(*, domain: str = "", name: str = "") -> Customer | None:
    """The oldest customer with this web domain (however spelled: URL, email, any case), else with this name
    (case-insensitive); None when neither matches. Personal-mail domains (gmail.com…) match nobody."""
    try:
        domain = normalize_domain(domain)
    except ValidationError:
        domain = ""
    if domain and domain not in PERSONAL_EMAIL_DOMAINS:
        customer = Customer.objects.filter(domain__iexact=domain).order_by("id").first()
        if customer is not None:
            return customer
    name = (name or "").strip()
    if name:
        return Customer.objects.filter(name__iexact=name).order_by("id").first()
    return None


def prospects_match(rows: Sequence[tuple[str, str, str]]) -> list[tuple[Customer | None, Contact | None]]:
    """For each (contact email, company domain, company name): what `contact_match` then `customer_match` find,
    one row at a time, answered for all rows in three queries (an import's chunk). The contact by its email (its
    company with it), else the company by the domain (the email's when none is given), else by its name."""
    emails = {email.strip().upper() for email, _, _ in rows if email and email.strip()}
    domains = {_usable_domain(domain or email.rpartition("@")[2]) for email, domain, _ in rows} - {""}
    names = {name.strip().lower() for _, _, name in rows if name and name.strip()}
    contacts = _oldest(Contact.objects.select_related("customer").annotate(key=Upper("email")), emails)
    by_domain = _oldest(Customer.objects.annotate(key=Upper("domain")), {domain.upper() for domain in domains})
    by_name = _oldest(Customer.objects.annotate(key=Lower("name")), names)
    found: list[tuple[Customer | None, Contact | None]] = []
    for email, domain, name in rows:
        contact = contacts.get(email.strip().upper())
        if contact is not None:
            found.append((contact.customer, contact))
            continue
        usable = _usable_domain(domain or email.rpartition("@")[2]).upper()
        found.append((by_domain.get(usable) or by_name.get(name.strip().lower()), None))
    return found


def _oldest(annotated: QuerySet, keys: set[str]) -> dict:
    """The first row by id for each key (one query; none when there are no keys)."""
    if not keys:
        return {}
    rows = annotated.filter(key__in=keys).order_by("key", "id").distinct("key")
    return {row.key: row for row in rows}


@transaction.atomic
def customer_and_contact_resolve(
    *,
    actor,
    company_name: str = "",
    domain: str = "",
    contact_name: str = "",
    contact_email: str = "",
    customer: Customer | None = None,
) -> tuple[Customer | None, Contact | None]:
    """The company and person these details name, linked when they exist and created when not, never twice.

    The contact is matched by email first (its company wins over the details given), then the company by domain
    (or the email's, unless a personal-mail domain), then by name. Nothing is created from empty details: no
    company without a name or a domain (a work email's counts), no contact without a company and a name or an
    email. A known `customer` (the lead's own) is kept; a contact found at another company is then left out.
    """
    contact_email = (contact_email or "").strip().lower()
    contact = contact_match(email=contact_email)
    if contact is not None and customer is not None and contact.customer_id != customer.pk:
        return customer, None
    if contact is not None:
        return contact.customer, contact
    if customer is None:
        domain = _usable_domain(domain) or _usable_domain(contact_email.rpartition("@")[2])
        customer = customer_match(domain=domain, name=company_name)
        if customer is None and (company_name.strip() or domain):
            name = company_name.strip()[: Customer._meta.get_field("name").max_length] or domain
            customer = services.customer_create(actor=actor, name=name, domain=domain, tags=["from-leads"])
    if customer is None or not (contact_email or contact_name.strip()):
        return customer, None
    name = contact_name.strip()[: Contact._meta.get_field("name").max_length] or contact_email.partition("@")[0]
    contact = services.contact_create(actor=actor, customer=customer, name=name, email=contact_email)
    return customer, contact


def _usable_domain(domain: str) -> str:
    try:
        domain = normalize_domain(domain)
    except ValidationError:
        return ""
    return "" if domain in PERSONAL_EMAIL_DOMAINS else domain


# --- sms ---


def contact_for_phone(*, phone: str, name: str = "") -> Contact:
    """The contact with this phone number (E.164, e.g. "+14155550100"), created when unknown.

    Numbers are matched on their digits and leading "+" only, so a contact typed as "+1 (415) 555-0100" is found.
    A new contact joins the shared "Individual requesters" (a phone number says nothing about a company).
    """
    digits = "+" + "".join(character for character in phone if character.isdigit())
    spelled = Func(F("phone"), Value(r"[^0-9+]"), Value(""), Value("g"), function="regexp_replace")
    contact = (
        Contact.objects.annotate(phone_digits=spelled)
        .filter(phone_digits=digits)
        .select_related("customer")
        .order_by("id")
        .first()
    )
    if contact is not None:
        return contact
    with transaction.atomic():
        customer = _customer_for_domain("", None)
        name = name.strip()[: Contact._meta.get_field("name").max_length] or digits
        return services.contact_create(actor=None, customer=customer, name=name, phone=digits)


# --- timeline ---


def timeline_provider_register(provider: TimelineProvider) -> None:
    """Adds an app's entries to every company and contact timeline; call it from the app's `AppConfig.ready`.
    See customers.contracts for what a provider answers and customers.timeline for how pages are merged."""
    timeline.provider_register(provider)


# --- company page panels ---


def company_panel_register(panel: CompanyPanel) -> None:
    """Adds a read-only block to every company page; call it from the app's `AppConfig.ready`. See
    customers.contracts.CompanyPanel for what the panel answers."""
    panels.panel_register(panel)


# --- quotes: checking the company and contact a quote is for ---


def customer_name(*, customer_id: int) -> str | None:
    """The name of the customer with this id, None when there is none in this workspace."""
    return Customer.objects.filter(pk=customer_id).values_list("name", flat=True).first()


def contact_customer_id(*, contact_id: int) -> int | None:
    """The id of the company this contact works at, None when there is no such contact."""
    return Contact.objects.filter(pk=contact_id).values_list("customer_id", flat=True).first()


def customer_choices(*, limit: int = 1000) -> list[tuple[int, str]]:
    """(id, name) of the customers by name, for a chooser."""
    return list(Customer.objects.order_by("name", "id").values_list("id", "name")[:limit])


# --- insights: account owners and health drops ---


def _brief(customer: Customer) -> CustomerBrief:
    owner = customer.owner
    return CustomerBrief(
        customer.pk,
        customer.name,
        customer.tier,
        customer.owner_id,
        (owner.name or owner.email) if owner else "",
        owner.email if owner else "",
        customer.health_score,
    )


def customer_briefs(*, customer_ids: Sequence[int]) -> dict[int, CustomerBrief]:
    """{id: brief} of those companies (one query)."""
    rows = Customer.objects.filter(pk__in=list(customer_ids)).select_related("owner")
    return {customer.pk: _brief(customer) for customer in rows}


def health_drops(*, today, days: int, min_drop: int) -> list[HealthDrop]:
    """Companies (not churned) whose latest snapshot up to `today` is at least `min_drop` points below their latest
    snapshot from `days` or more before it, largest drop first. Two queries."""
    from datetime import timedelta

    from .models import HealthSnapshot

    def latest(until) -> dict[int, tuple]:
        rows = (
            HealthSnapshot.objects.filter(day__lte=until, customer__churned_at__isnull=True)
            .order_by("customer_id", "-day")
            .distinct("customer_id")
            .values_list("customer_id", "score", "day")
        )
        return {customer_id: (score, day) for customer_id, score, day in rows}

    current, before = latest(today), latest(today - timedelta(days=days))
    dropped = {
        customer_id: (before[customer_id], now)
        for customer_id, now in current.items()
        if customer_id in before and before[customer_id][0] - now[0] >= min_drop
    }
    briefs = customer_briefs(customer_ids=list(dropped))
    drops = [
        HealthDrop(briefs[customer_id], was[0], now[0], was[1], now[1])
        for customer_id, (was, now) in dropped.items()
        if customer_id in briefs
    ]
    return sorted(drops, key=lambda drop: (-drop.drop, drop.customer.id))


# --- automation ---
# What automation rules test of a company (automation/sources.py).


def customer_automation_fields() -> list[dict]:
    from .models import CustomerTier, HealthBand

    def field(name: str, label: str, kind: str, choices=()) -> dict:
        return {"name": name, "label": label, "kind": kind, "choices": list(choices), "ai": False}

    return [
        field("name", "Name", "text"),
        field("tier", "Tier", "choice", [(v, str(label)) for v, label in CustomerTier.choices]),
        field("health_score", "Health score", "number"),
        field("health_band", "Health", "choice", [(v, str(label)) for v, label in HealthBand.choices]),
    ]


def customer_automation_values(ids: Sequence[int], *, now: datetime | None = None) -> dict[int, dict]:
    rows = Customer.objects.filter(pk__in=list(ids)).values_list("pk", "name", "tier", "health_score", "health_band")
    return {
        pk: {"name": name, "tier": tier, "health_score": score, "health_band": band}
        for pk, name, tier, score, band in rows
    }


def customers_recent_ids(*, limit: int = 50) -> list[int]:
    return list(Customer.objects.order_by("-updated", "-id").values_list("pk", flat=True)[: max(1, int(limit))])
