"""What other apps may ask of customers: find or create the person behind an email address, look contacts up,
and the customer tiers other apps match on. Writes go through customers.services (validation, cache
invalidation, live updates on teammates' pages), reads through customers.selectors."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Func, QuerySet, Value

from . import selectors, services, timeline
from .contracts import TimelineProvider
from .models import Contact, Customer
from .validators import normalize_domain

__all__ = [
    "CUSTOMER_TIER_CHOICES",
    "INDIVIDUALS",
    "Contact",  # the model a ticket's requester points at: other apps hold contacts through foreign keys
    "contact_for_email",
    "contact_for_phone",
    "contact_queryset",
    "contact_requester_rows",
    "contact_search",
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
