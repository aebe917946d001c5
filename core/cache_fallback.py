"""The database table the cache uses while Redis is unreachable, and the copy back into Redis when it answers again.

It offers the interface of Django's `RedisCacheClient` (raw keys, backend timeouts in seconds), so the cache
backend (core.cache) can hand any call to it. Keys arrive already made by the cache's key function: they start
with the workspace's schema, so one public table serves every workspace without one reading another's entries.

What each use of the cache gets while Redis is away:
- rate-limit counters and histories (API throttle, allauth, help center, sign-up), allauth's locks: shared by
  every process through the table, so limits keep holding (counting restarts from zero when the outage begins);
  `incr` is one atomic UPDATE;
- computed values (customer facets, ticket tags, SLA typical times, the AI response cache and its generation
  tokens, beat heartbeats): read and written here; a delete or an invalidation is recorded as a tombstone;
- when Redis answers again each process copies the table back (values with their remaining time, tombstones as
  deletes) BEFORE it reads Redis again, so an invalidation made during the outage is not undone by a stale entry
  Redis still held. Entries Redis had before the outage are not visible during it (a cache miss, recomputed).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

DATABASE = "default"
# core.models.CacheFallbackEntry's table; named here so the cache backend loads without the app registry.
TABLE = "core_cache_fallback"
REPLAY_BATCH = 500


def _table() -> str:
    # Qualified: the request's search_path may name a workspace schema first.
    quote = connections[DATABASE].ops.quote_name
    return f"{quote(get_public_schema_name())}.{quote(TABLE)}"


def _encode(value: Any) -> tuple[bytes | None, int | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        return None, value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL), None


def _decode(value: bytes | memoryview | None, number: int | None) -> Any:
    return number if value is None else pickle.loads(bytes(value))


def _expiry(timeout: int | None) -> datetime | None:
    return None if timeout is None else timezone.now() + timedelta(seconds=timeout)


LIVE = "(value IS NOT NULL OR number IS NOT NULL) AND (expires IS NULL OR expires > %s)"


class DatabaseCacheStore:
    """RedisCacheClient's methods on the fallback table; runs inside the caller's transaction, if any."""

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with connections[DATABASE].cursor() as cursor:
            cursor.execute(sql.format(table=_table(), live=LIVE), list(params))
            return cursor.fetchall() if cursor.description else []

    def _upsert(self, key: str, value: Any, timeout: int | None, *, only_if_absent: bool = False) -> bool:
        blob, number = _encode(value)
        sql = (
            "INSERT INTO {table} AS c (key, value, number, expires) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, number = EXCLUDED.number, "
            "expires = EXCLUDED.expires"
        )
        params = [key, blob, number, _expiry(timeout)]
        if only_if_absent:  # add(): replaces only a tombstone or an expired entry
            sql += " WHERE (c.value IS NULL AND c.number IS NULL) OR c.expires <= %s"
            params.append(timezone.now())
        return bool(self._execute(sql + " RETURNING 1", params))

    def _tombstone(self, key: str) -> bool:
        existed = self.has_key(key)
        self._execute(
            "INSERT INTO {table} (key, value, number, expires) VALUES (%s, NULL, NULL, NULL) "
            "ON CONFLICT (key) DO UPDATE SET value = NULL, number = NULL, expires = NULL",
            [key],
        )
        return existed

    def add(self, key: str, value: Any, timeout: int | None) -> bool:
        if timeout == 0:  # as Redis: "added" only if absent, and gone at once
            return not self.has_key(key)
        return self._upsert(key, value, timeout, only_if_absent=True)

    def get(self, key: str, default: Any) -> Any:
        rows = self._execute("SELECT value, number FROM {table} WHERE key = %s AND {live}", [key, timezone.now()])
        return _decode(*rows[0]) if rows else default

    def set(self, key: str, value: Any, timeout: int | None) -> None:
        if timeout == 0:
            self._tombstone(key)
        else:
            self._upsert(key, value, timeout)

    def touch(self, key: str, timeout: int | None) -> bool:
        if timeout == 0:
            return self._tombstone(key)
        now = timezone.now()
        return bool(
            self._execute(
                "UPDATE {table} SET expires = %s WHERE key = %s AND {live} RETURNING 1", [_expiry(timeout), key, now]
            )
        )

    def delete(self, key: str) -> bool:
        return self._tombstone(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        if not keys:
            return {}
        rows = self._execute(
            "SELECT key, value, number FROM {table} WHERE key = ANY(%s) AND {live}", [keys, timezone.now()]
        )
        return {key: _decode(value, number) for key, value, number in rows}

    def has_key(self, key: str) -> bool:
        return bool(self._execute("SELECT 1 FROM {table} WHERE key = %s AND {live}", [key, timezone.now()]))

    def incr(self, key: str, delta: int) -> int:
        rows = self._execute(
            "UPDATE {table} SET number = number + %s WHERE key = %s AND number IS NOT NULL "
            "AND (expires IS NULL OR expires > %s) RETURNING number",
            [delta, key, timezone.now()],
        )
        if not rows:
            raise ValueError(f"Key '{key}' not found or not a number.")
        return rows[0][0]

    def set_many(self, data: dict[str, Any], timeout: int | None) -> None:
        for key, value in data.items():
            self.set(key, value, timeout)

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._tombstone(key)

    def clear(self) -> bool:
        # Only what the outage wrote: Redis itself cannot be reached to be cleared.
        self._execute("DELETE FROM {table}")
        return True


def pending() -> bool:
    """Whether the table holds anything to copy back (one index probe)."""
    return bool(DatabaseCacheStore()._execute("SELECT 1 FROM {table} LIMIT 1"))


def replay_into(redis_client: Any) -> int:
    """Copies the table into Redis and empties it, in batches; returns how many entries were copied or deleted.

    Rows are locked with SKIP LOCKED, so processes recovering at the same moment share the work instead of
    copying one row twice. A Redis failure half-way rolls the batch back (the rows stay for the next attempt).
    """
    store, copied = DatabaseCacheStore(), 0
    while True:
        with transaction.atomic(using=DATABASE):
            rows = store._execute(
                "SELECT key, value, number, expires FROM {table} ORDER BY key LIMIT %s FOR UPDATE SKIP LOCKED",
                [REPLAY_BATCH],
            )
            if not rows:
                return copied
            now = timezone.now()
            for key, value, number, expires in rows:
                if value is None and number is None:
                    redis_client.delete(key)
                elif expires is None:
                    redis_client.set(key, _decode(value, number), None)
                elif expires > now:
                    redis_client.set(key, _decode(value, number), math.ceil((expires - now).total_seconds()))
                copied += 1
            store._execute("DELETE FROM {table} WHERE key = ANY(%s)", [[row[0] for row in rows]])
