"""The beat fan-out: one heartbeat task per active workspace, each running in that workspace's schema."""

from __future__ import annotations

import time

import pytest
from celery.signals import task_postrun, task_prerun
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from core.health import BEAT_HEARTBEAT_KEY
from tenants.models import Tenant
from tenants.services import for_each_tenant
from tenants.tasks import TENANT_HEARTBEAT_KEY, tenant_heartbeat_task, tenants_heartbeat_fanout_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def heartbeat_results():
    """(schema the connection was on when the task started, what it returned) for every heartbeat run eagerly."""
    started_in: dict[str, str] = {}
    results: list[tuple[str, str]] = []

    def before(sender=None, task_id=None, **kwargs):
        if sender.name == tenant_heartbeat_task.name:
            started_in[task_id] = connection.schema_name

    def after(sender=None, task_id=None, retval=None, **kwargs):
        if sender.name == tenant_heartbeat_task.name:
            results.append((started_in[task_id], retval))

    # Connected after tenant-schemas-celery's own handlers, so `before` sees the schema it switched to.
    task_prerun.connect(before, weak=False)
    task_postrun.connect(after, weak=False)
    yield results
    task_prerun.disconnect(before)
    task_postrun.disconnect(after)


def test_fan_out_queues_one_heartbeat_per_active_workspace_in_its_own_schema(
    public_schema, make_workspace, make_reservation, heartbeat_results
):
    suspended = make_workspace(status=Tenant.Status.SUSPENDED)
    make_reservation()  # still provisioning: no schema yet, must be skipped
    connection.set_schema_to_public()
    active = set(Tenant.objects.active().values_list("schema_name", flat=True))
    assert {"t_alpha", "t_beta"} <= active
    assert suspended.schema_name not in active
    started = time.time()

    queued = tenants_heartbeat_fanout_task.delay().get()

    assert queued == len(active)
    # Each copy ran with the connection on its workspace and returned that schema's name.
    assert sorted(heartbeat_results) == sorted((schema, schema) for schema in active)
    assert connection.schema_name == "public"  # the fan-out leaves the caller where it was
    assert cache.get(BEAT_HEARTBEAT_KEY) >= started
    for tenant in Tenant.objects.filter(schema_name__in=active):
        with tenant_context(tenant):
            # django_tenants.cache.make_key prefixes the schema, so each workspace has its own heartbeat.
            assert cache.get(TENANT_HEARTBEAT_KEY) >= started


def test_heartbeat_keys_are_separate_per_workspace(tenant, other_tenant):
    with tenant_context(tenant):
        cache.set(TENANT_HEARTBEAT_KEY, "alpha-beat")
    with tenant_context(other_tenant):
        cache.set(TENANT_HEARTBEAT_KEY, "beta-beat")
    with tenant_context(tenant):
        assert cache.get(TENANT_HEARTBEAT_KEY) == "alpha-beat"
    with schema_context("public"):
        assert cache.get(TENANT_HEARTBEAT_KEY) != "alpha-beat"


def test_for_each_tenant_runs_in_each_schema_and_survives_one_failure(public_schema, tenant):
    def schema_or_boom(current: Tenant) -> str:
        if current.slug == "alpha":
            raise RuntimeError("boom")
        return connection.schema_name

    results = for_each_tenant(schema_or_boom)
    assert results["t_alpha"] is None
    assert results["t_beta"] == "t_beta"
    assert connection.schema_name == "public"
