"""The cache while Redis is unreachable: every operation falls through to a database table, workspaces stay apart,
and what was written meanwhile is copied back into Redis (deletes included) before Redis is read again."""

from __future__ import annotations

import pickle
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import cache
from django.db import connection, connections
from django_tenants.utils import tenant_context

from core import cache_fallback
from core.models import CacheFallbackEntry
from core.testing.live import run_in_thread

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_committed_entries() -> None:
    """Entries committed by other threads outlive the test's transaction (each xdist worker has its own database)."""
    run_in_thread(lambda: CacheFallbackEntry.objects.all().delete())
    yield
    run_in_thread(lambda: CacheFallbackEntry.objects.all().delete())


@pytest.fixture
def redis_refused(redis_outage):
    redis_outage.refuse()
    return redis_outage


def test_every_operation_works_through_the_database_while_redis_refuses(redis_refused):
    assert cache.get("missing", "default") == "default"
    cache.set("text", {"a": 1}, timeout=60)
    assert cache.add("text", "other") is False and cache.add("fresh", "first") is True
    assert cache.get_many(["text", "fresh", "missing"]) == {"text": {"a": 1}, "fresh": "first"}
    cache.set_many({"one": 1, "two": 2})
    assert cache.incr("one", 5) == 6 and cache.decr("two") == 1
    with pytest.raises(ValueError):
        cache.incr("missing")
    assert cache.has_key("one") and cache.touch("one", 30) and not cache.touch("missing")
    assert cache.delete("one") is True and cache.get("one") is None and not cache.has_key("one")
    cache.delete_many(["two", "text"])
    assert cache.get_many(["two", "text"]) == {}
    assert cache.get_or_set("computed", lambda: "made once") == "made once"
    assert cache._cache.breaker.is_open
    # The rows carry the full key, schema first: the public table holds every workspace without mixing them up.
    assert CacheFallbackEntry.objects.filter(key=cache.make_key("fresh")).exists()
    assert cache.make_key("fresh").startswith("t_alpha:")


def test_expired_entries_are_gone_and_add_replaces_them(redis_refused):
    cache.set("counter", 3, timeout=60)
    CacheFallbackEntry.objects.filter(key=cache.make_key("counter")).update(expires="2000-01-01T00:00Z")

    assert cache.get("counter") is None
    with pytest.raises(ValueError):
        cache.incr("counter")
    assert cache.add("counter", 1, timeout=60) is True and cache.incr("counter") == 2


def test_a_workspace_never_reads_another_workspaces_entries(redis_refused, beta):
    cache.set("limit", 7)
    with tenant_context(beta):
        assert cache.get("limit") is None
        cache.set("limit", 1)
    assert cache.get("limit") == 7


def test_a_rate_limit_counter_is_shared_by_every_process_through_the_table(redis_refused):
    """incr() is one UPDATE: connections counting at the same time lose no hit (threads here, each committing)."""
    key = f"shared-{uuid.uuid4().hex}"
    run_in_thread(lambda: cache.add(key, 0, timeout=60))

    def hits() -> list[int]:
        try:
            return [cache.incr(key) for _ in range(25)]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = [count for batch in pool.map(lambda _: hits(), range(4)) for count in batch]
    run_in_thread(lambda: CacheFallbackEntry.objects.filter(key__endswith=key).delete())

    assert sorted(counts) == list(range(1, 101))


def test_what_was_written_during_the_outage_goes_back_to_redis_deletes_included(redis_outage):
    client = cache._cache.redis
    cache.set("kept", "before", timeout=None)
    cache.set("deleted", "before", timeout=None)
    cache._cache.breaker.record_failure(ConnectionRefusedError("as if Redis had gone"))

    cache.set("kept", "during", timeout=None)
    cache.delete("deleted")
    cache.set("new", "during", timeout=120)
    assert client.get(cache.make_key("kept"), None) == "before"  # Redis itself still holds the old values

    copied = cache_fallback.replay_into(client)  # what the breaker's recovery hook runs, before closing
    cache._cache.breaker.reset()

    assert copied == 3 and not CacheFallbackEntry.objects.exists()
    assert (cache.get("kept"), cache.get("deleted"), cache.get("new")) == ("during", None, "during")
    assert 100 < client.get_client().ttl(cache.make_key("new")) <= 120


def test_a_hung_redis_costs_one_timeout_then_the_cache_recovers_by_itself(redis_outage, settings):
    """End to end on committed rows, from other threads: hang, write, resume; the probe copies back and closes."""
    settings.REDIS_BREAKER_COOLDOWN_SECONDS = 0.2
    key = f"hung-{uuid.uuid4().hex}"
    raw = redis.Redis.from_url(redis_outage.server.url)
    redis_outage.hang()

    started = time.monotonic()
    run_in_thread(lambda: cache.set(key, "written while hung", timeout=300))
    first = time.monotonic() - started
    started = time.monotonic()
    assert run_in_thread(lambda: cache.get(key)) == "written while hung"
    assert first < 3 and time.monotonic() - started < 0.5  # one timeout, then the breaker skips Redis

    redis_outage.end()
    breaker = cache._cache.breaker
    deadline = time.monotonic() + 15
    while breaker.is_open:  # closes only after the recovery copy
        assert time.monotonic() < deadline, "the cache did not go back to Redis"
        breaker.allows()  # what any call does after the cooldown: starts the probe
        time.sleep(0.05)

    raw_key = run_in_thread(lambda: cache.make_key(key))
    assert not run_in_thread(lambda: CacheFallbackEntry.objects.filter(key=raw_key).exists())
    assert pickle.loads(raw.get(raw_key)) == "written while hung"
    assert connection.schema_name == "t_alpha"
