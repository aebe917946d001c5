"""What the bench scripts share. Import it after `django.setup()`, like the app modules they measure."""

from __future__ import annotations

from django.conf import settings

from tenants.models import Tenant
from tenants.services import platform_bootstrap, tenant_create


def bench_workspace(slug: str, name: str) -> Tenant:
    """The bench's own workspace: made on its first run (owner@<slug>.test, the demo password) and kept for the
    next ones, so a script seeds its data once; the platform's public schema is set up first."""
    platform_bootstrap()
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_create(
            name=name, slug=slug, admin_email=f"owner@{slug}.test", admin_password=settings.DEMO_PASSWORD
        )
    return tenant
