"""Fixtures for workspace tests: throwaway workspaces (real, cloned) and bare reservations in any status."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from tenants.models import Domain, Tenant
from tenants.routing import tenant_cache_clear
from tenants.services import tenant_create, workspace_domain
from tenants.validators import schema_name_for_slug

OWNER_PASSWORD = "Sw1tchboard-test-pass"


def unique_slug(prefix: str = "t") -> str:
    """Unique per test run, so a leftover from an interrupted run can never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def drop_workspace(slug: str) -> None:
    with connection.cursor() as cursor:
        # Deferred foreign-key checks still pending in the test's transaction would block DROP SCHEMA.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with schema_context(get_public_schema_name()):
        for tenant in Tenant.objects.filter(slug=slug):
            tenant.delete(force_drop=True)
        schema = schema_name_for_slug(slug)
        if schema_exists(schema):  # a schema whose row is already gone, e.g. after a failed provisioning
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
    tenant_cache_clear()


@pytest.fixture
def throwaway_slugs(db) -> Iterator[list[str]]:
    """Slugs appended here are deleted, schema and all, when the test ends."""
    slugs: list[str] = []
    yield slugs
    previous = connection.tenant
    for slug in slugs:
        drop_workspace(slug)
    connection.set_tenant(previous)


@pytest.fixture
def make_workspace(throwaway_slugs) -> Callable[..., Tenant]:
    """A real workspace cloned from the template, with its owner; dropped after the test."""

    def make(status: str = Tenant.Status.ACTIVE, name: str = "Throwaway Ltd") -> Tenant:
        slug = unique_slug()
        throwaway_slugs.append(slug)
        previous = connection.tenant
        tenant = tenant_create(name=name, slug=slug, admin_email=f"owner@{slug}.test", admin_password=OWNER_PASSWORD)
        if status != Tenant.Status.ACTIVE:
            with schema_context(get_public_schema_name()):
                tenant.status = status
                tenant.save(update_fields=["status"])
        connection.set_tenant(previous)
        return tenant

    return make


@pytest.fixture
def make_reservation(throwaway_slugs) -> Callable[..., Tenant]:
    """A workspace row and its host without a schema: what exists while sign-up is still provisioning."""

    def make(status: str = Tenant.Status.PROVISIONING, step: int = 1, name: str = "Reserved Ltd") -> Tenant:
        slug = unique_slug("r")
        throwaway_slugs.append(slug)
        with schema_context(get_public_schema_name()):
            tenant = Tenant.objects.create(
                name=name, slug=slug, schema_name=schema_name_for_slug(slug), status=status, provisioning_step=step
            )
            Domain.objects.create(domain=workspace_domain(slug), tenant=tenant)
        return tenant

    return make
