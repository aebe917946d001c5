"""Creating workspaces and running code inside them.

This is the only module that iterates tenants or switches schema: beat fan-out, provisioning and
admin commands all come through here, so domain code never names a schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import (
    get_public_schema_name,
    quote_schema_name,
    schema_context,
    schema_exists,
    tenant_context,
)

from core.outbox import enqueue, enqueue_on_commit

from .models import Domain, Tenant
from .schema_clone import workspace_schema_create
from .selectors import workspace_address_status
from .validators import schema_name_for_slug, validate_workspace_slug

logger = logging.getLogger(__name__)

PROVISIONING_STEPS = (
    "Reserving your address",
    "Creating your private database",
    "Creating your owner account",
    "Opening the doors",
)


@dataclass(frozen=True)
class WorkspaceOwner:
    email: str
    password_hash: str
    name: str = ""


def workspace_domain(slug: str) -> str:
    return f"{slug}.{settings.SWITCHBOARD_BASE_DOMAIN}"


def platform_bootstrap() -> None:
    """Idempotent: the public tenant with its hosts, and the migrated template new workspaces are cloned from."""
    with schema_context(get_public_schema_name()):
        public, _ = Tenant.objects.get_or_create(
            schema_name=get_public_schema_name(),
            defaults={
                "name": "Switchboard",
                "slug": "public-site",
                "status": Tenant.Status.ACTIVE,
                "type": Tenant.Type.PLATFORM,
            },
        )
        for index, host in enumerate(settings.SWITCHBOARD_PUBLIC_HOSTS):
            Domain.objects.get_or_create(domain=host, defaults={"tenant": public, "is_primary": index == 0})
        template, created = Tenant.objects.get_or_create(
            schema_name=settings.TENANT_BASE_SCHEMA,
            defaults={
                "name": "Workspace template",
                "slug": "workspace-template",
                "status": Tenant.Status.ACTIVE,
                "type": Tenant.Type.PLATFORM,
            },
        )
        if created or not _schema_exists(template.schema_name):
            template.create_schema(check_if_exists=True, verbosity=0)


def _schema_exists(schema_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [schema_name])
        return cursor.fetchone() is not None


def tenant_validate_new(*, name: str, slug: str) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give your workspace a name."]
    try:
        validate_workspace_slug(slug)
    except ValidationError as error:
        errors["slug"] = error.messages
    else:
        status = workspace_address_status(slug)
        if status.state in ("taken", "lookalike"):
            errors["slug"] = [status.message]
    if errors:
        raise ValidationError(errors)


def tenant_reserve(*, name: str, slug: str) -> Tenant:
    """Step 1: the row that holds the address while the schema is being made."""
    tenant_validate_new(name=name, slug=slug)
    with schema_context(get_public_schema_name()):
        return Tenant.objects.create(
            name=name.strip(),
            slug=slug,
            schema_name=schema_name_for_slug(slug),
            status=Tenant.Status.PROVISIONING,
            provisioning_step=1,
        )


class ProvisioningBusy(Exception):
    """Another live process is setting this workspace up (or the sweep is removing it)."""


class ProvisioningAbandoned(Exception):
    """The workspace row is gone: its set-up was given up and cleaned away by `tenants_provisioning_sweep`."""


# Whoever provisions a workspace holds this session-level advisory lock, keyed by its row. PostgreSQL releases it
# when the session ends, however the process ended (a SIGKILL, an OOM kill, a lost container), so a row that is
# still being set up while its lock is free has nobody working on it: the sweep may remove it.
PROVISIONING_LOCK = 7_317_002


@contextmanager
def _provisioning_lock(tenant: Tenant) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [PROVISIONING_LOCK, tenant.pk])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PROVISIONING_LOCK, tenant.pk])


def tenant_provision(*, tenant: Tenant, owner: WorkspaceOwner) -> Tenant:
    """Steps 2–4: clone the template schema, create the owner, add the domain, activate.

    Safe to run again for the same row (a task redelivered after its worker died): a schema left by the dead
    run is dropped and cloned afresh, and an already active workspace is left alone.
    """
    with _provisioning_lock(tenant) as ours:
        if not ours:
            raise ProvisioningBusy(f"Workspace {tenant.slug} is being set up by another process.")
        with schema_context(get_public_schema_name()):
            status = Tenant.objects.filter(pk=tenant.pk).values_list("status", flat=True).first()
        if status is None:
            raise ProvisioningAbandoned(f"Workspace {tenant.slug} was removed after its set-up failed.")
        if status == Tenant.Status.ACTIVE:
            return tenant
        return _provision_steps(tenant, owner)


def _provision_steps(tenant: Tenant, owner: WorkspaceOwner) -> Tenant:
    from accounts.facade import user_create_owner  # accounts lives in every schema; imported late

    try:
        _tenant_step(tenant, 2)
        _schema_drop_leftover(tenant)
        workspace_schema_create(tenant)  # not tenant.create_schema(): see tenants/schema_clone.py
        _tenant_step(tenant, 3)
        with tenant_context(tenant):
            user_create_owner(email=owner.email, password_hash=owner.password_hash, name=owner.name)
        _tenant_step(tenant, 4)
        with schema_context(get_public_schema_name()), transaction.atomic():
            Domain.objects.get_or_create(domain=workspace_domain(tenant.slug), defaults={"tenant": tenant})
            tenant.status = Tenant.Status.ACTIVE
            tenant.save(update_fields=["status"])
    except Exception as error:
        logger.exception("provisioning workspace %s failed", tenant.slug)
        with schema_context(get_public_schema_name()):
            tenant.status = Tenant.Status.FAILED
            tenant.provisioning_error = f"{type(error).__name__}: {error}"
            tenant.save(update_fields=["status", "provisioning_error"])
        raise
    return tenant


def _schema_drop_leftover(tenant: Tenant) -> None:
    """A clone committed by a run that then died (the server finishes a statement whose client is gone)."""
    with schema_context(get_public_schema_name()):
        if tenant.schema_name not in _platform_schemas() and schema_exists(tenant.schema_name):
            logger.warning("dropping %s, left by an earlier set-up of %s that died", tenant.schema_name, tenant.slug)
            with connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA {quote_schema_name(tenant.schema_name)} CASCADE")


def _platform_schemas() -> frozenset[str]:
    return frozenset({get_public_schema_name(), settings.TENANT_BASE_SCHEMA})


def tenants_provisioning_sweep() -> list[str]:
    """Removes workspaces whose set-up failed or died, schema and row, so their addresses are free again.

    A row is given up when its set-up raised (status failed), or when it is still "provisioning" but nobody holds
    its provisioning lock: past step 1 that means the process died; at step 1 (reserved, task not started yet)
    only once TENANT_PROVISIONING_STALE_SECONDS have passed, since the task may still be waiting in the queue.
    Nothing is retried: only a password hash of the owner was ever kept (in the task), and asking the person to
    sign up again takes them seconds, whereas retrying a set-up that died for a lasting reason would loop.
    Returns the slugs removed; run by beat (tenants.tasks.tenants_provisioning_sweep_task).
    """
    stale_before = timezone.now() - timedelta(seconds=settings.TENANT_PROVISIONING_STALE_SECONDS)
    given_up = [Tenant.Status.PROVISIONING, Tenant.Status.FAILED]
    with schema_context(get_public_schema_name()):
        candidates = list(Tenant.objects.workspaces().filter(status__in=given_up))
    removed = []
    for tenant in candidates:
        if (
            tenant.status == Tenant.Status.PROVISIONING
            and tenant.provisioning_step < 2
            and tenant.created > stale_before
        ):
            continue  # reserved a moment ago; its task has not started yet
        with schema_context(get_public_schema_name()), _provisioning_lock(tenant) as nobody_else:
            if not nobody_else:
                continue  # a live process is still working on it
            with transaction.atomic():
                row = Tenant.objects.select_for_update().filter(pk=tenant.pk, status__in=given_up).first()
                if row is None:
                    continue  # finished (or removed) meanwhile
                logger.warning(
                    "removing workspace %s: set-up %s at step %s%s",
                    row.slug,
                    "failed" if row.status == Tenant.Status.FAILED else "died",
                    row.provisioning_step,
                    f" ({row.provisioning_error})" if row.provisioning_error else "",
                )
                row.delete(force_drop=True)  # drops the schema if any; its domains go with the row
        removed.append(tenant.slug)
    return removed


def _tenant_step(tenant: Tenant, step: int) -> None:
    with schema_context(get_public_schema_name()):
        tenant.provisioning_step = step
        tenant.save(update_fields=["provisioning_step"])


def tenant_create(*, name: str, slug: str, admin_email: str, admin_password: str, admin_name: str = "") -> Tenant:
    """Synchronous provisioning, for `manage.py tenant_create`, the demo seed and tests."""
    tenant = tenant_reserve(name=name, slug=slug)
    owner = WorkspaceOwner(email=admin_email, password_hash=make_password(admin_password), name=admin_name)
    return tenant_provision(tenant=tenant, owner=owner)


def tenant_signup(*, name: str, slug: str, admin_email: str, admin_password: str, admin_name: str = "") -> Tenant:
    """From the public sign-up page: reserve now, provision in Celery, the page shows progress.

    The owner's verification link is built from configuration (core.links), never from the sign-up request.
    """
    from .tasks import tenant_provision_task

    tenant = tenant_reserve(name=name, slug=slug)
    # Only the hash crosses the broker; the plain password never leaves this request.
    password_hash = make_password(admin_password)
    enqueue_on_commit(tenant_provision_task, tenant.id, admin_email, password_hash, admin_name=admin_name)
    return tenant


def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    tenant.status = status
    tenant.save(update_fields=["status"])
    return tenant


def tenant_provisioning_progress(tenant: Tenant) -> dict[str, Any]:
    steps = [
        {
            "label": label,
            "done": tenant.status == Tenant.Status.ACTIVE or index + 1 < tenant.provisioning_step,
            "current": tenant.status == Tenant.Status.PROVISIONING and index + 1 == tenant.provisioning_step,
        }
        for index, label in enumerate(PROVISIONING_STEPS)
    ]
    done = sum(step["done"] for step in steps)
    return {
        "steps": steps,
        "percent": int(100 * done / len(steps)),
        "finished": tenant.status != Tenant.Status.PROVISIONING,
    }


# --- Running code in workspaces -----------------------------------------------------------------


def tenants_active() -> Iterator[Tenant]:
    with schema_context(get_public_schema_name()):
        tenants = list(Tenant.objects.active())
    yield from tenants


def for_each_tenant(function: Callable[[Tenant], Any]) -> dict[str, Any]:
    """Calls `function(tenant)` inside each active workspace; one failure does not stop the rest."""
    results: dict[str, Any] = {}
    for tenant in tenants_active():
        try:
            with tenant_context(tenant):
                results[tenant.schema_name] = function(tenant)
        except Exception:
            logger.exception("per-tenant call failed in %s", tenant.schema_name)
            results[tenant.schema_name] = None
    return results


def tenant_run(tenant: Tenant, function: Callable[[], Any]) -> Any:
    """Calls `function()` inside one workspace's schema, e.g. a task's follow-up after provisioning."""
    with tenant_context(tenant):
        return function()


def tenants_fan_out(task: Any, *args: Any, **kwargs: Any) -> int:
    """Queues `task` once per active workspace; each copy runs in that workspace's schema."""
    count = 0
    for tenant in tenants_active():
        with tenant_context(tenant):
            enqueue(task, *args, **kwargs)
        count += 1
    return count
