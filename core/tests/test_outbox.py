"""The task outbox: a task is written in the transaction that asked for it, published after the commit, kept when the
broker is away, and sent exactly once when it is back, stamped with the schema it was queued from."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from celery import shared_task
from celery.result import AsyncResult
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from config.celery import app
from core import outbox
from core.breaker import redis_breaker
from core.models import OutboxMessage
from core.outbox import enqueue, enqueue_on_commit, enqueue_or_run_on_commit, outbox_relay
from core.testing.live import run_in_thread

pytestmark = pytest.mark.django_db

RECORD = "core.tests.test_outbox.record"
recorded: list[tuple[str, object]] = []


@shared_task(name=RECORD)
def record(value: object) -> None:
    recorded.append((connection.schema_name, value))


@pytest.fixture(autouse=True)
def _nothing_recorded() -> None:
    recorded.clear()


def queued_messages(url: str) -> list[dict]:
    """What waits in the broker's default queue: each message's headers (task id, name, schema)."""
    raws = redis.Redis.from_url(url).lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
    return [json.loads(raw)["headers"] for raw in raws]


def queued_args(url: str) -> list[list]:
    raws = redis.Redis.from_url(url).lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
    return [json.loads(base64.b64decode(json.loads(raw)["body"]))[0] for raw in raws]


@pytest.fixture
def committed_rows_cleared():
    """Rows committed by other threads are not rolled back with the test (each xdist worker has its own database)."""
    run_in_thread(lambda: OutboxMessage.objects.all().delete())
    yield
    run_in_thread(lambda: OutboxMessage.objects.all().delete())


# --- Eager (unit tests): no broker, no outbox ---------------------------------------------------------


def test_eager_tasks_run_after_the_commit_and_never_after_a_rollback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_on_commit(record, "rolled back")
            raise RuntimeError
        task_id = enqueue_on_commit(record, "committed")
        assert recorded == []

    assert recorded == [("t_alpha", "committed")] and task_id
    assert not OutboxMessage.objects.exists()


# --- With a broker --------------------------------------------------------------------------------


def test_a_task_is_published_after_the_commit_with_its_schema_and_leaves_no_row(
    redis_outage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        task_id = enqueue_on_commit(record, "hello")
        assert OutboxMessage.objects.get().task_id.hex == task_id.replace("-", "")  # written with the transaction
        assert queued_messages(redis_outage.server.url) == []  # nothing leaves before the commit

    [message] = queued_messages(redis_outage.server.url)
    assert (message["id"], message["task"], message["_schema_name"]) == (task_id, RECORD, "t_alpha")
    assert queued_args(redis_outage.server.url) == [["hello"]]
    assert not OutboxMessage.objects.exists()


def test_publishing_reuses_one_redis_client_and_pings_the_connection_it_sends_on(redis_outage, monkeypatch):
    made: list[object] = []
    create = outbox._PublishingRedisChannel._create_client
    monkeypatch.setattr(
        outbox._PublishingRedisChannel, "_create_client", lambda self, **kw: made.append(1) or create(self, **kw)
    )
    pings: list[object] = []
    ping = redis.Redis.ping
    monkeypatch.setattr(redis.Redis, "ping", lambda self, **kw: pings.append(self) or ping(self, **kw))

    ids = [enqueue(record, 0)]
    clients_of_the_channel = len(made)
    ids += [enqueue(record, n) for n in range(1, 4)]

    assert [m["id"] for m in queued_messages(redis_outage.server.url)] == ids[::-1]  # LPUSH: newest first
    assert len(made) == clients_of_the_channel  # kombu made a client per message
    # one client pinged before each message (kombu also pings its own client once when it connects)
    assert max(Counter(id(client) for client in pings).values()) == 4


def test_the_tasks_of_one_transaction_are_published_together_after_its_commit(
    redis_outage, monkeypatch, django_capture_on_commit_callbacks
):
    pings: list[object] = []
    ping = redis.Redis.ping
    monkeypatch.setattr(redis.Redis, "ping", lambda self, **kw: pings.append(self) or ping(self, **kw))
    enqueue(record, "warm")  # the pool's connection is made (kombu pings its own client when it connects)
    pings.clear()

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        first = enqueue_on_commit(record, 1)
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_on_commit(record, "rolled back")
            raise RuntimeError
        second = enqueue_on_commit(record, 2)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()

    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 1 and statements[0].startswith("DELETE")  # both rows, in one statement

    assert [m["id"] for m in queued_messages(redis_outage.server.url)][:2] == [second, first]
    assert queued_args(redis_outage.server.url)[:2] == [[2], [1]]
    assert len(pings) == 1 and not OutboxMessage.objects.exists()


def test_with_the_broker_down_the_row_commits_or_rolls_back_with_the_business_write(
    redis_outage, django_capture_on_commit_callbacks
):
    redis_outage.refuse()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="rolled back")
        enqueue_on_commit(record, "rolled back")
        raise RuntimeError
    assert not OutboxMessage.objects.exists() and not Group.objects.filter(name="rolled back").exists()

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Group.objects.create(name="committed")
        task_id = enqueue_on_commit(record, "committed", 2)
    assert time.monotonic() - started < 2  # refused at once, not kombu's retries

    row = OutboxMessage.objects.get()
    assert (str(row.task_id), row.task_name, row.schema_name, row.args) == (
        task_id,
        RECORD,
        "t_alpha",
        ["committed", 2],
    )
    assert row.attempts == 1 and "Connection refused" in row.last_error
    assert recorded == []


def test_publishing_now_keeps_the_task_in_the_outbox_only_when_the_broker_is_down(redis_outage):
    first = enqueue(record, "now")
    assert [m["id"] for m in queued_messages(redis_outage.server.url)] == [first]
    assert not OutboxMessage.objects.exists()

    redis_outage.refuse()
    second = enqueue(record, "later")
    assert str(OutboxMessage.objects.get().task_id) == second


def test_work_someone_waits_for_runs_here_once_when_the_broker_is_down(
    redis_outage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_or_run_on_commit(record, "sent")
    assert recorded == [] and len(queued_messages(redis_outage.server.url)) == 1

    redis_outage.refuse()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_or_run_on_commit(record, "here")
    assert recorded == [("t_alpha", "here")]
    assert not OutboxMessage.objects.exists()  # run here, so never sent as well


def test_two_relays_at_once_send_every_waiting_row_exactly_once_in_its_schema(
    redis_outage, tenant, other_tenant, committed_rows_cleared, monkeypatch
):
    redis_outage.refuse()

    def queue_in(workspace, *values) -> None:
        with tenant_context(workspace):
            for value in values:
                enqueue_on_commit(record, value)  # no transaction here: committed, then refused

    run_in_thread(queue_in, tenant, "a1", "a2", "a3")
    run_in_thread(queue_in, other_tenant, "b1", "b2")
    rows = dict(run_in_thread(lambda: list(OutboxMessage.objects.values_list("task_id", "schema_name"))))
    assert sorted(rows.values()) == ["t_alpha"] * 3 + ["t_beta"] * 2
    redis_outage.end()

    # Each relay's first publish waits until the other relay is publishing too: both hold a row lock at the same
    # time, so the second relay got past the first one's locked row (SKIP LOCKED) instead of waiting for it.
    both_publishing = threading.Barrier(2, timeout=15)
    first_call = threading.local()
    publish = outbox._publish_row

    def publish_together(app, row) -> None:
        if not getattr(first_call, "done", False):
            first_call.done = True
            both_publishing.wait()
        publish(app, row)

    monkeypatch.setattr(outbox, "_publish_row", publish_together)

    def relay() -> int:
        try:
            return outbox_relay(app)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(pool.map(lambda _: relay(), range(2)))

    assert sum(sent) == 5 and min(sent) >= 1
    messages = queued_messages(redis_outage.server.url)
    assert sorted(m["id"] for m in messages) == sorted(str(task_id) for task_id in rows)  # no more, no fewer
    assert {m["id"]: m["_schema_name"] for m in messages} == {str(key): value for key, value in rows.items()}
    assert not run_in_thread(lambda: OutboxMessage.objects.exists())


def test_a_row_that_cannot_be_sent_does_not_hold_back_the_others(redis_outage, monkeypatch, committed_rows_cleared):
    redis_outage.refuse()
    ids = [run_in_thread(lambda value=value: enqueue_on_commit(record, value)) for value in ("first", "bad", "last")]
    redis_outage.end()
    publish = outbox._publish_row

    def refuse_bad(app, row) -> None:
        if row.args == ["bad"]:
            raise ValueError("cannot be encoded")
        publish(app, row)

    monkeypatch.setattr(outbox, "_publish_row", refuse_bad)

    assert run_in_thread(lambda: outbox_relay(app)) == 2

    sent = [m["id"] for m in reversed(queued_messages(redis_outage.server.url))]  # LPUSHed: newest first
    assert sent == [ids[0], ids[2]]  # oldest first, the bad one skipped
    left = run_in_thread(lambda: list(OutboxMessage.objects.values_list("args", "attempts", "last_error")))
    assert left == [(["bad"], 1, "ValueError: cannot be encoded")]


def test_the_process_that_sees_redis_recover_sends_what_waited(redis_outage, settings, committed_rows_cleared):
    """No beat needed: the breaker's probe finds the broker answering and relays before calls resume."""
    settings.REDIS_BREAKER_COOLDOWN_SECONDS = 0.2
    redis_outage.hang()
    started = time.monotonic()
    task_id = run_in_thread(lambda: enqueue(record, "while hung"))
    assert time.monotonic() - started < 3
    assert run_in_thread(lambda: OutboxMessage.objects.filter(task_id=task_id).exists())

    redis_outage.end()
    breaker = redis_breaker(redis_outage.server.url)
    deadline = time.monotonic() + 20
    while not queued_messages(redis_outage.server.url):
        assert time.monotonic() < deadline, "the waiting task was not sent after Redis came back"
        breaker.allows()  # what any call does after the cooldown: starts the probe
        time.sleep(0.05)

    assert [m["id"] for m in queued_messages(redis_outage.server.url)] == [task_id]
    assert not run_in_thread(lambda: OutboxMessage.objects.exists())


@pytest.mark.integration
@pytest.mark.xdist_group("live")
def test_a_relayed_task_runs_on_the_worker_in_the_schema_it_was_queued_from(
    live_celery, settings, tenant, other_tenant, committed_rows_cleared
):
    from core.testing.fixtures import _use_redis

    heartbeat = "tenants.tasks.tenant_heartbeat_task"
    _use_redis(settings, "redis://127.0.0.1:1/0")  # nothing listens on port 1: the broker is down

    def queue_in(workspace) -> str:
        with tenant_context(workspace):
            return enqueue_on_commit(heartbeat)

    ids = {run_in_thread(queue_in, tenant): "t_alpha", run_in_thread(queue_in, other_tenant): "t_beta"}
    ids[run_in_thread(lambda: enqueue_on_commit(heartbeat))] = "public"  # a new thread starts on public
    _use_redis(settings, live_celery.redis_url)

    assert run_in_thread(lambda: outbox_relay(app)) == 3  # beat's relay task calls this, in the public schema

    assert {task_id: AsyncResult(task_id, app=app).get(timeout=30) for task_id in ids} == ids
