"""The cache from settings (real Redis) prefixes every key with the schema: no workspace sees another's entries."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    """Unique per test: the Redis database is shared with other runs and the dev server."""
    name = f"test-{uuid.uuid4().hex}"
    yield name
    for schema in ("t_alpha", "t_beta", get_public_schema_name()):
        with schema_context(schema):
            cache.delete(name)


def test_cache_is_the_real_redis_backend():
    assert isinstance(caches["default"], RedisCache)


def test_entry_set_in_alpha_is_invisible_in_beta_and_public(key, beta):
    cache.set(key, 1)

    with tenant_context(beta):
        assert cache.get(key) is None
    with schema_context(get_public_schema_name()):
        assert cache.get(key) is None
    assert cache.get(key) == 1


def test_same_key_holds_one_value_per_workspace(key, beta):
    cache.set(key, "alpha's")
    with tenant_context(beta):
        cache.set(key, "beta's")
        cache.delete(key)

    assert cache.get(key) == "alpha's"


def test_raw_keys_start_with_the_schema(key, beta):
    assert cache.make_key(key).startswith("t_alpha:")
    with tenant_context(beta):
        assert cache.make_key(key).startswith("t_beta:")


def test_threads_share_one_redis_connection_pool(key):
    """Under ASGI each request runs on a new thread with its own cache backend: they must not each connect anew."""
    import threading

    pools = []

    def read() -> None:
        cache.get(key)
        pools.append(cache._cache.redis._get_connection_pool(False))  # this thread's own backend's pool

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(pools) == 3 and len({id(pool) for pool in pools}) == 1
    assert pools[0] is cache._cache.redis._get_connection_pool(False)
