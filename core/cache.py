"""Django's Redis cache backend, minus the per-thread connection pool and the per-operation client object.

Django keeps one cache backend per thread, each with its own `redis.ConnectionPool`. Under ASGI every request
runs on a fresh thread, so every request opened a new TCP connection to Redis for its first cache read (the
API throttle): about a tenth of the web process's CPU on a small request. Pools are kept per process here,
keyed by server and options (redis-py pools are thread-safe and reset themselves after a fork).

Django's `RedisCacheClient.get_client()` also makes a new `redis.Redis` around the pool on each call;
constructing one costs ~0.35 ms of Python (redis-py 6 sets up retries, parsers and callbacks), more than the
round trip to a local Redis. A client is thread-safe and holds no connection of its own, so one per pool is
kept and reused. Keys and serialisation are Django's.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

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
