"""The AI app's access to the shared cache (Redis), which degrades instead of failing when Redis is away.

The AI app keeps only optional state there: cached answers, cache generation tokens, budget counters, circuit
breakers. None of it may stop a call. While Redis is down the project's cache itself falls back to a database table
(core.cache); should that fail too, every operation here answers its "nothing known" default (logged at most once a
minute per process), and the callers fall back to the database (settings, spend) or simply do without (answers are
not cached, breakers stay closed). Keys are schema-prefixed by Django's key function, as everywhere.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

T = TypeVar("T")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
WARN_EVERY_SECONDS = 60.0

logger = logging.getLogger(__name__)
_last_warning = 0.0


def _safely(operation: Callable[[], T], default: T) -> T:
    global _last_warning
    try:
        return operation()
    except UNREACHABLE as error:
        now = time.monotonic()
        if now - _last_warning >= WARN_EVERY_SECONDS:
            _last_warning = now
            logger.warning("AI cache unreachable (%s): running without it", error.__class__.__name__)
        return default


def get(key: str) -> Any:
    return _safely(lambda: cache.get(key), None)


def get_many(keys: list[str]) -> dict[str, Any] | None:
    """The keys found, or None when the cache cannot be reached (unlike {}: nothing found)."""
    return _safely(lambda: cache.get_many(keys), None)


def add(key: str, value: Any, timeout: int | None) -> bool | None:
    """True if added, False if the key exists, None when the cache cannot be reached."""
    return _safely(lambda: cache.add(key, value, timeout=timeout), None)


def set(key: str, value: Any, timeout: int | None) -> None:
    _safely(lambda: cache.set(key, value, timeout=timeout), None)


def delete(key: str) -> None:
    _safely(lambda: cache.delete(key), None)


def incr(key: str, delta: int) -> None:
    """Adds `delta` to an existing counter; a missing counter (or no cache) is left alone."""

    def increment() -> None:
        with contextlib.suppress(ValueError):  # not counted yet: whoever reads it next sums the ledger
            cache.incr(key, delta)

    _safely(increment, None)
