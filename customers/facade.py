"""What other apps may ask of customers: find or create the person behind an email address."""

from __future__ import annotations

from django.db import transaction

from .models import Contact, Customer

# Addresses at these domains belong to people, not companies: their senders share one "Individuals" customer.
PERSONAL_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de",
        "mail.com", "yandex.com", "zoho.com", "example.com",
    }
)  # fmt: skip
INDIVIDUALS = "Individual requesters"


def contact_for_email(*, email: str, name: str = "") -> Contact:
    """The contact with this address (case-insensitive), created when unknown.

    A new contact joins the customer whose web domain matches the address's, else a new customer named after
    that domain; addresses at personal-mail domains (gmail.com…) join the shared "Individual requesters".
    """
    email = email.strip().lower()
    contact = Contact.objects.filter(email__iexact=email).select_related("customer").order_by("id").first()
    if contact is not None:
        return contact
    domain = email.rpartition("@")[2]
    with transaction.atomic():
        customer = _customer_for_domain(domain)
        return Contact.objects.create(customer=customer, email=email, name=name.strip() or email.partition("@")[0])


def _customer_for_domain(domain: str) -> Customer:
    if domain in PERSONAL_EMAIL_DOMAINS or not domain:
        customer, _ = Customer.objects.get_or_create(name=INDIVIDUALS, domain="", defaults={"tags": ["individuals"]})
        return customer
    customer = Customer.objects.filter(domain__iexact=domain).order_by("id").first()
    return customer or Customer.objects.create(name=domain, domain=domain, tags=["from-helpdesk"])
