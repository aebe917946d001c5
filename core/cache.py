"""Django's Redis cache backend, minus the per-thread connection pool and the per-operation client object, with a
database fallback for when Redis is down or hung.

Django keeps one cache backend per thread, each with its own `redis.ConnectionPool`. Under ASGI every request
runs on a fresh thread, so every request opened a new TCP connection to Redis for its first cache read (the
API throttle): about a tenth of the web process's CPU on a small request. Pools are kept per process here,
keyed by server and options (redis-py pools are thread-safe and reset themselves after a fork).

Django's `RedisCacheClient.get_client()` also makes a new `redis.Redis` around the pool on each call;
constructing one costs ~0.35 ms of Python (redis-py 6 sets up retries, parsers and callbacks), more than the
round trip to a local Redis. A client is thread-safe and holds no connection of its own, so one per pool is
kept and reused. Keys and serialisation are Django's.

`ResilientRedisCache` (the one settings use) adds a circuit breaker and the database fallback of
core.cache_fallback: a Redis outage costs speed, not requests.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connections
from django.utils.functional import cached_property

from . import cache_fallback
from .breaker import REDIS_UNREACHABLE, CircuitBreaker, redis_breaker
from .cache_fallback import DatabaseCacheStore

logger = logging.getLogger(__name__)

_pools: dict[tuple, object] = {}
_clients: dict[int, object] = {}
_lock = threading.Lock()


class ReusedClientRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write):
        server = self._servers[self._get_connection_pool_index(write)]
        key = (server, self._pool_class, tuple(sorted(self._pool_options.items())))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.setdefault(key, self._pool_class.from_url(server, **self._pool_options))
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = _clients.get(id(pool))
        if client is None:
            with _lock:
                client = _clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient


class ResilientCacheClient:
    """RedisCacheClient's interface: Redis while its breaker is closed, the database table (core.cache_fallback)
    while it is open or when a call finds Redis unreachable (which opens the breaker for every later call)."""

    def __init__(self, redis_client: RedisCacheClient, server: str) -> None:
        self.redis = redis_client
        self.database = DatabaseCacheStore()
        self.breaker = redis_breaker(server)

    def _call(self, method: str, *args: Any) -> Any:
        if self.breaker.allows():
            try:
                return getattr(self.redis, method)(*args)
            except REDIS_UNREACHABLE as error:
                self.breaker.record_failure(error)
        return getattr(self.database, method)(*args)

    def add(self, key, value, timeout):
        return self._call("add", key, value, timeout)

    def get(self, key, default):
        return self._call("get", key, default)

    def set(self, key, value, timeout):
        return self._call("set", key, value, timeout)

    def touch(self, key, timeout):
        return self._call("touch", key, timeout)

    def delete(self, key):
        return self._call("delete", key)

    def get_many(self, keys):
        return self._call("get_many", list(keys))

    def has_key(self, key):
        return self._call("has_key", key)

    def incr(self, key, delta):
        return self._call("incr", key, delta)

    def set_many(self, data, timeout):
        return self._call("set_many", data, timeout)

    def delete_many(self, keys):
        return self._call("delete_many", list(keys))

    def clear(self):
        return self._call("clear")


class ResilientRedisCache(ReusedClientRedisCache):
    """The project's cache: Redis, falling through to a database table while Redis is down or hung.

    Set the OPTIONS socket timeouts low (settings: REDIS_TIMEOUT_SECONDS): the first call to find Redis hung waits
    that long, later calls skip Redis until its breaker's probe finds it answering (core.breaker). When it does, the
    entries written to the table meanwhile are copied back into Redis before Redis is read again.
    """

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        if len(self._servers) != 1:
            raise ValueError("ResilientRedisCache takes one Redis server.")
        _register_replay(self._servers[0], self._options)

    @cached_property
    def _cache(self) -> ResilientCacheClient:
        return ResilientCacheClient(self._class(self._servers, **self._options), self._servers[0])

    @property
    def breaker(self) -> CircuitBreaker:
        return self._cache.breaker

    @property
    def redis(self) -> RedisCacheClient:
        """The Redis client alone, without the fallback (health checks, the copy back)."""
        return self._cache.redis


_replays: set[str] = set()


def _register_replay(server: str, options: dict[str, Any]) -> None:
    """Once per server and process: on recovery, copy the fallback table into Redis before Redis is used again."""
    if server in _replays:
        return
    with _lock:
        if server in _replays:
            return
        _replays.add(server)
    client = ReusedClientRedisCacheClient([server], **options)

    def replay() -> None:
        try:
            copied = cache_fallback.replay_into(client)
        finally:
            connections.close_all()  # the probe's own thread: leave no connection behind it
        if copied:
            logger.warning("copied %s cache entries written during the Redis outage back into Redis", copied)

    redis_breaker(server).on_recovery(replay)


def fallback_drain(alias: str = "default") -> int:
    """Copies what the fallback table still holds into Redis, if Redis is reachable (beat runs it: a process that
    stopped during an outage never ran its own recovery copy). Returns how many entries were copied."""
    backend = caches[alias]
    if not isinstance(backend, ResilientRedisCache) or not backend.breaker.allows() or not cache_fallback.pending():
        return 0
    try:
        return cache_fallback.replay_into(backend.redis)
    except REDIS_UNREACHABLE as error:
        backend.breaker.record_failure(error)
        return 0
