"""Health of the parts the product needs: database, Redis, a Celery worker and beat."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

BEAT_HEARTBEAT_KEY = "beat:last-heartbeat"
BEAT_STALE_AFTER_SECONDS = 180


def _check(function) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = function()
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **(detail or {})}
    except Exception as error:  # health checks report every failure instead of raising it
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    cache.set("healthz", "ok", timeout=5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache round trip failed")


def _worker() -> dict[str, Any]:
    from config.celery import app

    with app.connection_for_write() as broker:
        # No retries: with the broker down a probe must fail at once, not after kombu's back-off (seconds).
        broker.ensure_connection(max_retries=0, timeout=1.0)
        # limit=1: the first answer is enough, so a healthy probe returns at once instead of after the timeout.
        replies = app.control.ping(timeout=1.0, limit=1, connection=broker)
    if not replies:
        raise RuntimeError("no Celery worker answered within 1 s")
    return {"answered_by": next(iter(replies[0]))}


def _beat() -> dict[str, Any]:
    # Beat's fan-out writes the heartbeat in the public schema; cache keys carry the schema, so read it there
    # whichever host (public site or a workspace) is being probed.
    with schema_context(get_public_schema_name()):
        last = cache.get(BEAT_HEARTBEAT_KEY)
    if last is None:
        raise RuntimeError("beat has not run yet")
    age = time.time() - float(last)
    if age > BEAT_STALE_AFTER_SECONDS:
        raise RuntimeError(f"last beat heartbeat {int(age)} s ago")
    return {"last_heartbeat_seconds_ago": int(age)}


def health_report() -> dict[str, Any]:
    checks = {
        "database": _check(_database),
        "redis": _check(_redis),
        "celery_worker": _check(_worker),
        "celery_beat": _check(_beat),
    }
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks}
