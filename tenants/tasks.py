"""Celery entry points for workspaces: provisioning and the beat fan-out."""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache
from django.db import connection

from core.health import BEAT_HEARTBEAT_KEY

from .models import Tenant
from .services import WorkspaceOwner, tenant_provision, tenants_fan_out

TENANT_HEARTBEAT_KEY = "tenant:last-heartbeat"


@shared_task
def tenant_provision_task(tenant_id: int, admin_email: str, password_hash: str) -> None:
    tenant = Tenant.objects.get(id=tenant_id)
    tenant_provision(tenant=tenant, owner=WorkspaceOwner(email=admin_email, password_hash=password_hash))


@shared_task
def tenants_heartbeat_fanout_task() -> int:
    """Scheduled by beat every minute in the public schema; /healthz reads its timestamp."""
    cache.set(BEAT_HEARTBEAT_KEY, time.time(), timeout=None)
    return tenants_fan_out(tenant_heartbeat_task)


@shared_task
def tenant_heartbeat_task() -> str:
    # tenant-schemas-celery switched the connection to the schema this copy was queued from;
    # the cache key is prefixed with that schema by django_tenants.cache.make_key.
    cache.set(TENANT_HEARTBEAT_KEY, time.time(), timeout=None)
    return connection.schema_name
