"""Health of the parts the product needs: database, Redis, a Celery worker and beat.

Right after start, no worker may answer yet and beat may not have run once (its first heartbeat comes after up to
30 s): for HEALTH_STARTUP_GRACE_SECONDS after this process started those two report "starting", and the probe
answers 200 with status "starting" instead of 503. A beat heartbeat that went stale, a broker that refuses
connections, a database or Redis that fails: 503 at once, grace or not.

The checks run at the same time, each on a thread of a small pool, and the report is made when all have answered
or at the deadline, whichever comes first: a hung Redis or database makes its own check fail ("no answer within
1.5 s") instead of holding the probe. Each check also bounds its own calls (socket timeouts), so a thread left
behind by the deadline comes back soon after.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import close_old_connections, connection
from django_tenants.utils import get_public_schema_name, schema_context

from .breaker import redis_timeout
from .cache import ResilientRedisCache

BEAT_HEARTBEAT_KEY = "beat:last-heartbeat"
BEAT_STALE_AFTER_SECONDS = 180
# The whole report is ready within this (a load balancer's probe typically times out at 2 s).
DEADLINE_SECONDS = 1.5
WORKER_PING_SECONDS = 1.0
STARTED = time.monotonic()  # imported by CoreConfig.ready(), when the process sets Django up


def _now() -> float:
    return time.monotonic()


def seconds_since_start() -> float:
    return _now() - STARTED


class NotYet(RuntimeError):
    """A part that has not come up yet, which is normal right after start (a worker booting, beat's first tick)."""


def _timed(function: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    """Runs one check on a pool thread, with that thread's database connection handled as a request's would be."""
    started = time.perf_counter()
    close_old_connections()
    try:
        detail = function()
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **(detail or {})}
    except NotYet as error:
        return {"ok": False, "error": f"RuntimeError: {error}", "not_yet": True}
    except Exception as error:  # health checks report every failure instead of raising it
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    finally:
        close_old_connections()


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    """A round trip to the cache's Redis itself, never through its database fallback."""
    backend = caches["default"]
    if isinstance(backend, ResilientRedisCache):
        client, key = backend.redis, backend.make_key("healthz")
        client.set(key, "ok", 5)
        found = client.get(key, None)
    else:
        cache.set("healthz", "ok", timeout=5)
        found = cache.get("healthz")
    if found != "ok":
        raise RuntimeError("cache round trip failed")


def _worker() -> dict[str, Any]:
    from config.celery import app

    timeout = redis_timeout()
    options = dict(app.conf.broker_transport_options or {}) | {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }
    with app.connection_for_write(transport_options=options) as broker:
        # No retries: with the broker down a probe must fail at once, not after kombu's back-off (seconds).
        broker.ensure_connection(max_retries=0, timeout=timeout)
        # limit=1: the first answer is enough, so a healthy probe returns at once instead of after the timeout.
        replies = app.control.ping(timeout=WORKER_PING_SECONDS, limit=1, connection=broker)
    if not replies:
        raise NotYet(f"no Celery worker answered within {WORKER_PING_SECONDS:g} s")
    return {"answered_by": next(iter(replies[0]))}


def _beat() -> dict[str, Any]:
    # Beat's fan-out writes the heartbeat in the public schema; cache keys carry the schema, so read it there
    # whichever host (public site or a workspace) is being probed.
    with schema_context(get_public_schema_name()):
        last = cache.get(BEAT_HEARTBEAT_KEY)
    if last is None:
        raise NotYet("beat has not run yet")
    age = time.time() - float(last)
    if age > BEAT_STALE_AFTER_SECONDS:
        raise RuntimeError(f"last beat heartbeat {int(age)} s ago")
    return {"last_heartbeat_seconds_ago": int(age)}


CHECKS: dict[str, Callable[[], dict[str, Any] | None]] = {
    "database": _database,
    "redis": _redis,
    "celery_worker": _worker,
    "celery_beat": _beat,
}

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """One pool per process (made after a fork: a pool's threads do not survive one). Room for a few probes'
    worth of checks left hanging past their deadline."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=4 * len(CHECKS), thread_name_prefix="healthz"))
        return _pool[1]


def health_report(deadline: float | None = None) -> dict[str, Any]:
    deadline = DEADLINE_SECONDS if deadline is None else deadline
    futures: dict[str, Future] = {name: _executor().submit(_timed, check) for name, check in CHECKS.items()}
    wait(futures.values(), timeout=deadline)
    checks = {}
    for name, future in futures.items():
        if future.done():
            checks[name] = future.result()
        else:
            future.cancel()  # still queued behind hung checks: never run it
            checks[name] = {"ok": False, "error": f"TimeoutError: no answer within {deadline:g} s"}
    starting = _grace_apply(checks)
    ok = all(check["ok"] for check in checks.values())
    return {"ok": ok, "status": ("starting" if starting else "ok") if ok else "failing", "checks": checks}


def _grace_apply(checks: dict[str, dict[str, Any]]) -> bool:
    """Within the start-up grace, parts that are not up yet count as starting; True if any does."""
    left = settings.HEALTH_STARTUP_GRACE_SECONDS - seconds_since_start()
    starting = False
    for check in checks.values():
        if check.pop("not_yet", False) and left > 0:
            check.update(ok=True, status="starting", detail=check.pop("error"), grace_seconds_left=int(left))
            starting = True
    return starting
