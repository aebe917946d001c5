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
from .services import (
    ProvisioningAbandoned,
    ProvisioningBusy,
    WorkspaceOwner,
    tenant_provision,
    tenant_run,
    tenants_fan_out,
    tenants_provisioning_sweep,
)

TENANT_HEARTBEAT_KEY = "tenant:last-heartbeat"

logger = logging.getLogger(__name__)


@shared_task
def tenant_provision_task(
    tenant_id: int, admin_email: str, password_hash: str, admin_name: str = "", host: str = ""
) -> None:
    """Queued by the public sign-up page (in the public schema): builds the workspace, then mails its owner.

    A copy redelivered after its worker died finishes the job, unless the sweep already gave the row up.
    `host` is ignored (the link is built from configuration); it stays so tasks queued before still run.
    """
    tenant = Tenant.objects.filter(id=tenant_id).first()
    owner = WorkspaceOwner(email=admin_email, password_hash=password_hash, name=admin_name)
    try:
        if tenant is None:
            raise ProvisioningAbandoned(f"workspace row {tenant_id} no longer exists")
        tenant_provision(tenant=tenant, owner=owner)
    except (ProvisioningAbandoned, ProvisioningBusy) as reason:
        logger.warning("not provisioning: %s", reason)
        return
    tenant_run(tenant, lambda: _owner_send_verification(email=admin_email))


def _owner_send_verification(*, email: str) -> None:
    """Runs inside the new workspace: the owner confirms their address before the first sign-in."""
    from accounts.facade import owner_send_verification

    owner = get_user_model().objects.get(email=email.lower())
    try:
        owner_send_verification(user=owner)
    except Exception:
        # The workspace is ready either way; signing in offers to resend the confirmation email.
        logger.exception("could not send the verification email to the new workspace's owner")


@shared_task
def tenants_provisioning_sweep_task() -> list[str]:
    """Scheduled by beat: frees the addresses of workspaces whose set-up failed or died half-way."""
    return tenants_provisioning_sweep()


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
