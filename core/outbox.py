"""Every Celery task the product queues goes through here: a transactional outbox in front of the broker.

`enqueue_on_commit(task, *args)` writes an `OutboxMessage` row in the caller's transaction (so it commits or
rolls back with the change that asked for it) and publishes it right after the commit, together with the other rows
that transaction queued (one DELETE, one ping, one broker connection for all). A broker that is down or
hung leaves the row where it is; the relay sends it when the broker answers again: at once from the process whose
Redis breaker sees it recover (core.breaker), and every few seconds from beat (core.tasks.outbox_relay_task).

Exactly once between the publishers: whoever publishes a row first deletes it under a row lock taken with
`FOR UPDATE SKIP LOCKED` and commits only after the broker accepted the message, so two relays (or a relay and the
after-commit send) never both send a row; a failed publish rolls the delete back. Every row has its task id from
the start, so the message, its result and any log line carry the same id whoever sent it. One window is left, as
in any broker without transactions: a process that dies after the broker accepted a message and before its commit
(or a publish whose reply never came although Redis did take it) sends it again later, with the same task id; the
tasks queued here are idempotent for that reason.

Each row records the schema it was queued from and the message carries it (tenant-schemas-celery's
`_schema_name` header), so the relay never switches schema: the worker runs the task where it was queued.

Publishing uses a Celery app of its own, without a result backend: Celery's app subscribes to the task's result
channel on Redis before publishing, which on a hung Redis waited minutes and retried twenty times; and it uses
short socket timeouts (REDIS_TIMEOUT_SECONDS), so a hung broker costs one request that long, once per process.
With `CELERY_TASK_ALWAYS_EAGER` (unit tests) there is no broker: tasks run after commit, as Celery would run them.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import redis
from celery import Celery, Task, current_app
from django.db import connection, connections, transaction
from django.db.models import F
from django_tenants.utils import get_public_schema_name
from kombu.connection import ConnectionPool
from kombu.exceptions import LimitExceeded, OperationalError
from kombu.transport import redis as kombu_redis

from .breaker import REDIS_UNREACHABLE, CircuitBreaker, RateLimitedLog, redis_breaker, redis_timeout
from .models import KombuJSONDecoder, OutboxMessage

logger = logging.getLogger(__name__)
_log = RateLimitedLog(logger)

SCHEMA_HEADER = "_schema_name"  # tenant_schemas_celery.app.get_schema_name_from_task reads it
# The broker cannot take messages now (kombu re-raises connection errors as OperationalError; LimitExceeded: no
# pooled connection in time), or Redis answers with an error (out of memory, read-only replica): it waits in the outbox.
PUBLISH_ERRORS = (*REDIS_UNREACHABLE, redis.RedisError, OperationalError, LimitExceeded)
RELAY_BATCH = 1000
# What the publishing app copies from the project's app: everything that shapes or routes a message.
SENDING_SETTINGS = (
    "task_serializer",
    "task_compression",
    "task_protocol",
    "task_routes",
    "task_queues",
    "task_default_queue",
    "task_default_exchange",
    "task_default_exchange_type",
    "task_default_routing_key",
    "task_default_delivery_mode",
    "task_create_missing_queues",
    "task_send_sent_event",
    "broker_connection_timeout",
)


# --- Queueing ---------------------------------------------------------------------------------------


def enqueue_on_commit(task: Task | str, *args: Any, **kwargs: Any) -> str:
    """Queues `task(*args, **kwargs)` once the current transaction commits (at once outside one); returns its id.

    Never raises for a broker outage: the task waits in the outbox and is sent when the broker is back.
    """
    return _enqueue(task, args, kwargs, run_here=False)


def enqueue_or_run_on_commit(task: Task, *args: Any, **kwargs: Any) -> str:
    """As `enqueue_on_commit`, but when the broker cannot take the task right after the commit it runs here, in
    this process, instead of waiting for the broker (work somebody is waiting for, such as a new ticket's intake).

    It runs inside the transaction that deletes its outbox row: it runs here or is sent later, never both.
    """
    if isinstance(task, str):
        raise TypeError("enqueue_or_run_on_commit needs the task itself, to run it here.")
    return _enqueue(task, args, kwargs, run_here=True)


def enqueue(task: Task | str, *args: Any, **kwargs: Any) -> str:
    """Publishes `task(*args, **kwargs)` now, not after the commit (the task needs none of this transaction's rows).

    A broker that cannot take it leaves an outbox row instead, in the current transaction if there is one.
    """
    app, name = _resolve(task)
    if app.conf.task_always_eager:
        return app.tasks[name].apply_async(args, kwargs).id
    schema, task_id = connection.schema_name, str(uuid.uuid4())
    breaker = _broker_breaker(app)
    if breaker.allows():
        try:
            _publish(app, name=name, args=args, kwargs=kwargs, task_id=task_id, schema=schema)
            return task_id
        except PUBLISH_ERRORS as error:
            breaker.record_failure(error)
            _log.warning(name, "could not publish %s (%s): kept in the outbox", name, error)
    OutboxMessage.objects.create(task_id=task_id, task_name=name, schema_name=schema, args=list(args), kwargs=kwargs)
    return task_id


def _enqueue(task: Task | str, args: Iterable[Any], kwargs: dict[str, Any], *, run_here: bool) -> str:
    app, name = _resolve(task)
    args = list(args)
    if app.conf.task_always_eager:  # no broker, no outbox: run after commit, as the worker would
        task_id = str(uuid.uuid4())
        transaction.on_commit(lambda: app.tasks[name].apply_async(args, kwargs, task_id=task_id), robust=True)
        return task_id
    row = OutboxMessage.objects.create(task_name=name, schema_name=connection.schema_name, args=args, kwargs=kwargs)
    batch = _pending_batch(app)
    batch.rows.append((row.pk, task.run if run_here else None))
    # A hook per row, so a rolled-back savepoint drops its own; the first hook that runs sends the whole batch.
    transaction.on_commit(batch.send, robust=True)
    return str(row.task_id)


@dataclass
class _Batch:
    """The rows queued by one transaction (and by any transaction that commits before its hooks have run), sent
    together after the commit: one DELETE, one ping and one pooled broker connection for all of them instead of a
    transaction and a ping each. Ids of rows a rollback removed may be in it: the DELETE simply does not find them
    (ids are never reused)."""

    app: Celery
    rows: list[tuple[int, Any]] = field(default_factory=list)  # (row id, the task's run when it may run here)
    sent: bool = False

    def send(self) -> None:
        if self.sent:
            return
        self.sent = True
        _send_after_commit(self.app, self.rows)


def _pending_batch(app: Celery) -> _Batch:
    """The batch this connection's next commit sends (a new one once the last was sent). Connections are per
    thread, so a batch never mixes threads' rows."""
    batch = getattr(connection, "_outbox_batch", None)
    if batch is None or batch.sent or batch.app is not app:
        batch = _Batch(app)
        connection._outbox_batch = batch
    return batch


def _resolve(task: Task | str) -> tuple[Celery, str]:
    if isinstance(task, str):
        return current_app, task
    return task.app, task.name


# --- Sending ------------------------------------------------------------------------------------------


def _send_after_commit(app: Celery, rows: Sequence[tuple[int, Any]]) -> None:
    breaker = _broker_breaker(app)
    sent: list[int] = []
    if breaker.allows():
        try:
            with transaction.atomic():
                taken = _take_many([row_id for row_id, _run in rows])
                if not taken:  # a relay has them (or has sent them already), or a rollback removed them
                    return
                _publish_rows(app, taken, sent=sent)
            return
        except PUBLISH_ERRORS as error:  # the delete rolls back: the rows wait for the relay
            breaker.record_failure(error)
            if sent:  # the broker took these before it failed: they must not be sent again
                _forget(sent)
            _failed([row_id for row_id, _run in rows if row_id not in sent], error)
    for row_id, run in rows:
        if run is not None and row_id not in sent:
            _run_here(row_id, run)


def _run_here(row_id: int, run: Any) -> None:
    with transaction.atomic():
        row = _take(row_id, durable=True)  # the task's own writes commit with the row's deletion
        if row is None:
            return
        logger.info("broker unreachable: running %s (%s) in this process", row.task_name, row.task_id)
        run(*row.args, **row.kwargs)


def outbox_relay(app: Celery | None = None, *, limit: int = RELAY_BATCH, raise_on_failure: bool = False) -> int:
    """Publishes waiting rows, oldest first, each in its own transaction; returns how many were sent.

    Stops at the first failed publish (the broker is still away; the row stays, its attempt counted), and then
    raises if asked to (the breaker's recovery hook: the broker is not back after all).
    """
    app = app or current_app
    if not OutboxMessage.objects.exists():  # the usual case, one index probe
        return 0
    breaker, sent, skipped = _broker_breaker(app), 0, []
    while sent < limit:
        row = None
        try:
            with transaction.atomic():
                row = _take(skip=skipped)
                if row is None:
                    break
                _publish_row(app, row)
        except PUBLISH_ERRORS as error:
            breaker.record_failure(error)
            if row is not None:
                _failed(row.pk, error)
            if raise_on_failure:
                raise
            break
        except Exception as error:  # this row cannot be sent (the broker can): it must not hold back the others
            if row is None:
                raise
            logger.exception("could not publish %s (%s): left in the outbox", row.task_name, row.task_id)
            _failed(row.pk, error)
            skipped.append(row.pk)
            continue
        sent += 1
    if sent:
        logger.info("outbox relay sent %s task(s)", sent)
    return sent


def _take(row_id: int | None = None, *, skip: Sequence[int] = (), durable: bool = False) -> OutboxMessage | None:
    """Deletes the row (or the oldest one) unless another transaction holds it (SKIP LOCKED), and returns it.

    Called in a transaction that publishes the row before committing: a failed publish rolls the delete back.
    One statement: the row's lock, its deletion and its content in a single round trip. Unless `durable`, the
    transaction commits without waiting for the disk (`synchronous_commit = off`): that wait was most of the
    outbox's cost per task (a second fsync after the business transaction's), and a PostgreSQL crash in the next
    fraction of a second could only bring the row back, to be sent again with the same task id.
    """
    quote = connection.ops.quote_name
    table = f"{quote(get_public_schema_name())}.{quote(OutboxMessage._meta.db_table)}"
    which, params = ("id = %s", [row_id]) if row_id is not None else ("NOT (id = ANY(%s))", [list(skip)])
    fast = "" if durable else ", set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE id = (SELECT id FROM {table} WHERE {which} ORDER BY id LIMIT 1 "
            f"FOR UPDATE SKIP LOCKED) RETURNING id, task_id, task_name, schema_name, args::text, kwargs::text{fast}",
            params,
        )
        found = cursor.fetchone()
    if found is None:
        return None
    pk, task_id, task_name, schema_name, args, kwargs = found[:6]
    decode = KombuJSONDecoder().decode
    return OutboxMessage(
        pk=pk, task_id=task_id, task_name=task_name, schema_name=schema_name, args=decode(args), kwargs=decode(kwargs)
    )


def _take_many(row_ids: Sequence[int]) -> list[OutboxMessage]:
    """As `_take` for these rows (those another transaction holds are skipped), in one statement, oldest first."""
    quote = connection.ops.quote_name
    table = f"{quote(get_public_schema_name())}.{quote(OutboxMessage._meta.db_table)}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE id = ANY(%s) FOR UPDATE SKIP LOCKED) "
            "RETURNING id, task_id, task_name, schema_name, args::text, kwargs::text, "
            "set_config('synchronous_commit', 'off', true)",
            [list(row_ids)],
        )
        found = sorted(cursor.fetchall())
    decode = KombuJSONDecoder().decode
    return [
        OutboxMessage(
            pk=pk, task_id=task_id, task_name=task_name, schema_name=schema, args=decode(args), kwargs=decode(kwargs)
        )
        for pk, task_id, task_name, schema, args, kwargs, _ in found
    ]


def _forget(row_ids: Sequence[int]) -> None:
    OutboxMessage.objects.filter(pk__in=row_ids).delete()


def _failed(row_ids: int | Sequence[int], error: BaseException) -> None:
    ids = [row_ids] if isinstance(row_ids, int) else list(row_ids)
    OutboxMessage.objects.filter(pk__in=ids).update(
        attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"
    )


def _publish_row(app: Celery, row: OutboxMessage) -> None:
    _publish_rows(app, [row])


def _publish_rows(app: Celery, rows: Sequence[OutboxMessage], *, sent: list[int] | None = None) -> None:
    """Publishes the rows on one pooled connection, pinged once; `sent` collects the ids the broker took."""
    _publish_many(
        app,
        [(row.task_name, row.args, row.kwargs, str(row.task_id), row.schema_name) for row in rows],
        taken=lambda index: sent.append(rows[index].pk) if sent is not None else None,
    )


def _publish(app: Celery, *, name: str, args: Iterable[Any], kwargs: dict[str, Any], task_id: str, schema: str) -> None:
    _publish_many(app, [(name, args, kwargs, task_id, schema)])


def _publish_many(
    app: Celery, messages: Sequence[tuple[str, Iterable[Any], dict[str, Any], str, str]], *, taken: Any = None
) -> None:
    publisher = _publisher(app)
    timeout = redis_timeout()
    with publisher.pool.acquire(block=True, timeout=timeout) as broker:
        broker.ensure_connection(max_retries=0, timeout=timeout)  # refused: fail now, not after kombu's back-off
        client = getattr(broker.default_channel, "publishing_client", None)
        if client is not None:
            # Redis: a ping first, so a server that hung since the last message is found before the message is sent
            # (a message sent to a hung server is delivered when it resumes, though the publish timed out).
            client.ping()
        for index, (name, args, kwargs, task_id, schema) in enumerate(messages):
            publisher.app.send_task(
                name,
                args=list(args),
                kwargs=kwargs,
                task_id=task_id,
                headers={SCHEMA_HEADER: schema},
                connection=broker,
                retry=False,
            )
            if taken is not None:
                taken(index)


# --- The publishing app -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Publisher:
    app: Celery
    pool: ConnectionPool


_publishers: dict[tuple, _Publisher] = {}
_publishers_lock = threading.Lock()


def _publisher(app: Celery) -> _Publisher:
    """A Celery app that only sends, with the project app's message settings, no result backend, short timeouts,
    and a connection pool of its own.

    Cached per process (a forked child must not share its parent's sockets) and per broker URL and timeout, so
    tests that point the broker elsewhere get a fresh one. The message settings are read when it is made: reading
    them through Celery's settings on every publish was a fifth of a publish's cost.
    """
    conf = app.conf
    key = (os.getpid(), id(app), conf.broker_url, redis_timeout())
    publisher = _publishers.get(key)
    if publisher is None:
        with _publishers_lock:
            publisher = _publishers.get(key)
            if publisher is None:
                publisher = _publishers[key] = _publisher_make(app, timeout=key[-1])
    return publisher


def _publisher_make(app: Celery, *, timeout: float) -> _Publisher:
    conf = app.conf
    sending = {name: conf.get(name) for name in SENDING_SETTINGS}
    transport = dict(conf.broker_transport_options or {}) | {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }
    sender = Celery(f"{app.main}-outbox", set_as_current=False)
    redis_broker = str(conf.broker_url or "").startswith(("redis://", "rediss://", "unix://"))
    sender.conf.update(
        broker_url=conf.broker_url,
        broker_transport=_PublishingRedisTransport if redis_broker else conf.broker_transport,
        broker_transport_options=transport,
        result_backend=None,
        **{name: value for name, value in sending.items() if value is not None},
    )
    pool = sender.connection_for_write().Pool(limit=conf.broker_pool_limit or 10)
    return _Publisher(app=sender, pool=pool)


class _PublishingRedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, publishing through one redis-py client of its own: kombu made a new client (a few
    hundred dictionary writes) for every message. The client takes a pooled connection per command, like any."""

    @cached_property
    def publishing_client(self) -> redis.Redis:
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client: redis.Redis | None = None) -> Iterator[redis.Redis]:
        yield client or self.publishing_client


class _PublishingRedisTransport(kombu_redis.Transport):
    Channel = _PublishingRedisChannel


def _broker_breaker(app: Celery) -> CircuitBreaker:
    url = app.conf.broker_url
    breaker = redis_breaker(url)
    if url not in _relay_hooks:
        with _publishers_lock:
            if url not in _relay_hooks:
                _relay_hooks.add(url)
                breaker.on_recovery(lambda: _relay_on_recovery(app))
    return breaker


_relay_hooks: set[str] = set()


def _relay_on_recovery(app: Celery) -> None:
    """In the breaker's probe thread, once the broker answers again: send what waited, before anything new."""
    try:
        outbox_relay(app, raise_on_failure=True)
    finally:
        connections.close_all()  # the probe's own thread
