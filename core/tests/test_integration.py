"""Through the real parts: a Celery worker subprocess on the Redis broker, and the Redis channel layer.

Tasks are sent by name (`app.signature`), as any producer does; tenant-schemas-celery's `send_task`
stamps the current schema on them either way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context, tenant_context

from config.celery import app
from core.health import BEAT_HEARTBEAT_KEY
from core.realtime import notify_on_commit, workspace_group

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]

HEARTBEAT_TASK = "tenants.tasks.tenant_heartbeat_task"
FANOUT_TASK = "tenants.tasks.tenants_heartbeat_fanout_task"
# Written by tenant_heartbeat_task in the schema it runs in (the cache prefixes keys with the schema).
TENANT_HEARTBEAT_KEY = "tenant:last-heartbeat"


def eventually(condition: Callable[[], bool], *, timeout: float = 20.0, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.05)


def test_worker_runs_each_task_in_the_schema_it_was_queued_from(live_celery, tenant, beta):
    from_alpha = app.signature(HEARTBEAT_TASK).delay()
    with tenant_context(beta):
        from_beta = app.signature(HEARTBEAT_TASK).delay()
    with schema_context(get_public_schema_name()):
        from_public = app.signature(HEARTBEAT_TASK).delay()

    # One solo worker runs them back to back: each result also proves the previous schema did not stick.
    assert from_alpha.get(timeout=20) == "t_alpha"
    assert from_beta.get(timeout=20) == "t_beta"
    assert from_public.get(timeout=20) == "public"


def test_eager_tasks_are_off_for_integration_tests(live_celery):
    assert app.conf.task_always_eager is False
    assert app.conf.broker_url == live_celery.redis_url


def test_beat_fanout_queues_one_heartbeat_per_active_workspace(live_celery, public_schema):
    workspaces = list(get_tenant_model().objects.active())
    started = time.time()

    queued = app.signature(FANOUT_TASK).delay().get(timeout=20)

    assert queued == len(workspaces) >= 2
    assert {"t_alpha", "t_beta"} <= {workspace.schema_name for workspace in workspaces}
    assert cache.get(BEAT_HEARTBEAT_KEY) >= started  # the worker shares this Redis database with us
    for workspace in workspaces:
        with tenant_context(workspace):
            eventually(
                lambda: (cache.get(TENANT_HEARTBEAT_KEY) or 0) >= started,
                what=f"the heartbeat of {workspace.schema_name}",
            )
    connection.set_schema_to_public()


def test_notify_on_commit_reaches_alpha_group_over_redis_and_not_beta(live_celery, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)

    def commit_a_notification() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            notify_on_commit(workspace_group(), "<p>Acme was added</p>")

    async def scenario() -> tuple[dict, dict]:
        alpha_channel, beta_channel = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("t_alpha.workspace", alpha_channel)
        await layer.group_add("t_beta.workspace", beta_channel)
        try:
            # On this (the test's) thread, inside the test transaction.
            await sync_to_async(commit_a_notification)()
            to_alpha = await asyncio.wait_for(layer.receive(alpha_channel), timeout=5)
            # group_send reaches all members at once; had beta got a copy, it would come before this one.
            await layer.send(beta_channel, {"type": "sentinel"})
            to_beta = await asyncio.wait_for(layer.receive(beta_channel), timeout=5)
        finally:
            await layer.group_discard("t_alpha.workspace", alpha_channel)
            await layer.group_discard("t_beta.workspace", beta_channel)
            await layer.close_pools()
        return to_alpha, to_beta

    to_alpha, to_beta = async_to_sync(scenario)()

    assert to_alpha == {"type": "push.html", "html": "<p>Acme was added</p>", "exclude_user_id": None}
    assert to_beta == {"type": "sentinel"}
