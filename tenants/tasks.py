"""Celery entry points for workspaces: provisioning and the beat fan-out."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection

from core.health import BEAT_HEARTBEAT_KEY

from .models import Tenant
from .services import WorkspaceOwner, tenant_provision, tenant_run, tenants_fan_out, workspace_domain

TENANT_HEARTBEAT_KEY = "tenant:last-heartbeat"

logger = logging.getLogger(__name__)


@shared_task
def tenant_provision_task(
    tenant_id: int, admin_email: str, password_hash: str, admin_name: str = "", host: str = ""
) -> None:
    """Queued by the public sign-up page (in the public schema): builds the workspace, then mails its owner.

    `host` is ignored (the link is built from configuration); it stays so tasks queued before still run."""
    tenant = Tenant.objects.get(id=tenant_id)
    owner = WorkspaceOwner(email=admin_email, password_hash=password_hash, name=admin_name)
    tenant_provision(tenant=tenant, owner=owner)
    tenant_run(tenant, lambda: _owner_send_verification(email=admin_email, host=workspace_domain(tenant.slug)))


def _owner_send_verification(*, email: str, host: str) -> None:
    """Runs inside the new workspace: the owner confirms their address before the first sign-in."""
    from accounts.facade import owner_send_verification

    owner = get_user_model().objects.get(email=email.lower())
    try:
        owner_send_verification(user=owner)
    except Exception:
        # The workspace is ready either way; signing in offers to resend the confirmation email.
        logger.exception("could not send the verification email to the owner of %s", host)


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
