"""Workspaces (tenants) and the hostnames that route to them. Both live in the public schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

from .validators import validate_workspace_slug


class TenantQuerySet(models.QuerySet):
    def workspaces(self) -> TenantQuerySet:
        """Customer workspaces: not the public schema, not the template new ones are cloned from."""
        return self.exclude(schema_name__in=[get_public_schema_name(), settings.TENANT_BASE_SCHEMA])

    def active(self) -> TenantQuerySet:
        return self.workspaces().filter(status=Tenant.Status.ACTIVE)


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "Being set up"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        FAILED = "failed", "Set-up failed"

    class Type(models.TextChoices):
        # Partner portals (white-label) arrive as their own type with django-tenants' multi-type support.
        CUSTOMER = "customer", "Customer workspace"
        PLATFORM = "platform", "Platform"

    name = models.CharField(max_length=100)
    slug = models.CharField(max_length=40, unique=True, validators=[validate_workspace_slug])
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROVISIONING)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.CUSTOMER)
    created = models.DateTimeField(auto_now_add=True)
    provisioning_step = models.PositiveSmallIntegerField(default=0)
    provisioning_error = models.TextField(blank=True)

    # Schemas are created by tenants.services (cloned from the template), never as a side effect of save().
    auto_create_schema = False
    auto_drop_schema = True

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class SchemaScript(models.Model):
    """The script a new workspace schema is made from, per template and migration state (tenants.schema_replay)."""

    template = models.CharField(max_length=63)
    key = models.CharField(max_length=64, unique=True)
    script = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.template} at {self.key[:12]}"
