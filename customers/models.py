"""Customer companies and the people we talk to there."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class CustomerQuerySet(models.QuerySet):
    def matching(self, query: str) -> CustomerQuerySet:
        query = query.strip()
        if not query:
            return self
        return self.filter(Q(name__icontains=query) | Q(domain__icontains=query))


class Customer(models.Model):
    class Tier(models.TextChoices):
        FREE = "free", "Free"
        STARTER = "starter", "Starter"
        PROFESSIONAL = "professional", "Professional"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="Company web domain, e.g. acme.com")
    industry = models.CharField(max_length=100, blank=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.STARTER)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_customers"
    )
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    # A default rather than auto_now_add, so imports and demo data can keep their own dates.
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The database collates bytewise ("C"), so lists sort by lower(name): "acme" next to "Acme", before "Zeta".
            # These serve the keyset pagination of selectors.customer_list (sort key + id).
            models.Index(Lower("name"), "id", name="customer_lname_id"),
            models.Index(fields=["created", "id"], name="customer_created_id"),
            models.Index("tier", Lower("name"), "id", name="customer_tier_lname_id"),
            GinIndex(fields=["tags"], name="customer_tags"),
            GinIndex(name="customer_name_trgm", fields=["name"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="customer_domain_trgm", fields=["domain"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=120, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["customer", "name"], name="contact_customer_name"),
            models.Index(fields=["email"], name="contact_email"),
            models.Index(Lower("name"), "id", name="contact_lname_id"),
            GinIndex(name="contact_name_trgm", fields=["name"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="contact_email_trgm", fields=["email"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.name
