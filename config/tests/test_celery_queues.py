"""Celery queues by urgency: every task routed by name in the settings, and `make run`'s workers keep somebody's
sign-up out of the way of bulk work (a real worker)."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import make_password

from config.celery import app
from core.outbox import enqueue
from core.testing.fixtures import _forget_celery_connections, _test_database_url, _use_redis
from core.testing.live import ROOT, CeleryWorker, run_in_thread, server_env
from helpdesk.tasks.kb import kb_reindex_fanout_task
from tenants.models import Tenant
from tenants.services import tenant_reserve
from tenants.tasks import tenant_provision_task
from tenants.tests.conftest import drop_workspace, unique_slug


def devstack():
    spec = importlib.util.spec_from_file_location("devstack_queues", ROOT / "scripts" / "devstack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def product_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.") and ".tests." not in name}


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name, (), {}, None)["queue"].name


def test_every_task_has_its_queue_stated_in_the_settings():
    """A new task without a route in CELERY_TASK_ROUTES fails here: say how urgent it is."""
    tasks = product_tasks()
    assert len(tasks) > 20
    assert sorted(tasks - set(settings.CELERY_TASK_ROUTES)) == []
    assert sorted(set(settings.CELERY_TASK_ROUTES) - tasks) == []  # renamed or removed tasks leave no stale route
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} == set(settings.TASK_QUEUES)


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("tenants.tasks.tenant_provision_task", "interactive"),
        ("helpdesk.tasks.tickets.ticket_intake_task", "interactive"),
        ("ai.tasks.ai_generate_task", "interactive"),
        ("tenants.tasks.tenants_heartbeat_fanout_task", "default"),
        ("helpdesk.tasks.kb.article_index_task", "bulk"),
        ("helpdesk.tasks.ticket_ai.solved_tickets_index_all_task", "bulk"),
        ("helpdesk.tasks.sla.sla_risk_model_train_task", "bulk"),
    ],
)
def test_tasks_are_sent_to_the_queue_of_their_urgency(task, queue):
    assert queue_of(task) == queue


def test_make_run_serves_every_queue_and_keeps_interactive_work_apart_from_bulk():
    stack = devstack()
    workers = {name: stack.worker_queues(name) for name in stack.PROCESSES if name.startswith("worker")}
    assert workers == {"worker": ["interactive", "default"], "worker-bulk": ["bulk"]}
    assert "worker-bulk" in stack.NICED and "worker" not in stack.NICED


# --- A real worker, as `make run` starts it --------------------------------------------------------------


@pytest.fixture
def interactive_worker(django_db_setup, redis_databases, live_log_dir, settings) -> Iterator[CeleryWorker]:
    """`make run`'s interactive worker on a Redis database of its own, with this test's Celery pointed at it.
    The bulk worker is left out, so whatever reaches the bulk queue stays there for the test to count."""
    redis_url = redis_databases.lease()
    env = server_env(database=_test_database_url(), redis_url=redis_url)
    queues = devstack().worker_queues("worker")
    worker = CeleryWorker.start(env=env, redis_url=redis_url, log_dir=live_log_dir, queues=queues)
    _use_redis(settings, redis_url)
    yield worker
    worker.stop()
    _forget_celery_connections()


def waiting_in(redis_url: str, queue: str) -> int:
    client = redis.Redis.from_url(redis_url)
    return sum(client.llen(key) for key in client.scan_iter(f"{queue}*") if client.type(key) == b"list")


def wait_until_active(slug: str) -> Tenant:
    deadline = time.monotonic() + 120  # generous: two cores shared by several test runs
    while time.monotonic() < deadline:
        tenant = run_in_thread(lambda: Tenant.objects.get(slug=slug))
        if tenant.status != Tenant.Status.PROVISIONING:
            return tenant
        time.sleep(0.1)
    raise AssertionError(f"{slug} was not provisioned within 2 minutes")


@pytest.mark.integration
@pytest.mark.django_db
def test_a_sign_up_is_provisioned_while_a_flood_of_bulk_work_waits(interactive_worker, public_schema):
    """Before the queues, a fresh `make run` kept sign-ups at 0 % behind start-up indexing on the one queue."""
    flood = 200
    for _ in range(flood):
        enqueue(kb_reindex_fanout_task)
    slug = unique_slug("q")
    try:
        tenant = run_in_thread(lambda: tenant_reserve(name="Queued Ltd", slug=slug))  # committed: the worker sees it
        enqueue(tenant_provision_task, tenant.id, f"owner@{slug}.test", make_password("Sw1tchboard-test-pass"))

        assert wait_until_active(slug).status == Tenant.Status.ACTIVE
        assert waiting_in(interactive_worker.redis_url, "bulk") == flood  # not one bulk task ran first
    finally:
        run_in_thread(lambda: drop_workspace(slug))
