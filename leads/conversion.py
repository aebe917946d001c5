"""Conversion of a won lead: its company and contact found among the customers or created, never duplicated."""

from __future__ import annotations

from django.db import transaction

from customers import facade as customers

from .models import Lead


@transaction.atomic
def lead_convert(*, lead: Lead, actor) -> Lead:
    """Links the lead to the company and contact its prospect details name (created when unknown).

    Called when the lead is won; running it again links the same rows (matching by email, domain, name), so a
    second win creates nothing. A lead with neither a company nor prospect details stays as it is.
    """
    if lead.customer_id and lead.contact_id:
        return lead
    customer, contact = customers.customer_and_contact_resolve(
        actor=actor,
        company_name=lead.company_name,
        domain=lead.company_domain,
        contact_name=lead.contact_name,
        contact_email=lead.contact_email,
        customer=lead.customer,
    )
    fields = []
    if customer is not None and lead.customer_id != customer.pk:
        lead.customer = customer
        fields.append("customer")
    if contact is not None and lead.contact_id is None:
        lead.contact = contact
        fields.append("contact")
    if fields:
        lead.save(update_fields=fields)
    return lead
