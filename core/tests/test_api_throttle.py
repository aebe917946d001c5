"""The API throttle without Redis: its counters move to the cache's database fallback; with no counters at all it
limits per process and says so once, never answering 500."""

from __future__ import annotations

import logging
import random

import pytest

from core.api import throttling
from core.api.throttling import TenantUserRateThrottle
from core.breaker import RateLimitedLog

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def strict_throttle(api_rate_limit):
    api_rate_limit("3/min")


def fresh_window() -> int:
    """A window no earlier run counted in (counters outlive a test by a minute in the shared Redis)."""
    return random.randrange(10**9, 10**10)


class BrokenCounters:
    def incr(self, *args, **kwargs):
        raise RuntimeError("no counters today")

    add = get = set = incr


def test_the_limit_still_holds_while_redis_refuses_connections(client, login, strict_throttle, redis_outage):
    login("agent")
    redis_outage.refuse()

    statuses = [client.get(ME).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_a_client_is_limited_per_window_and_told_when_it_ends(client, login, strict_throttle, monkeypatch):
    login("agent")
    now = [60.0 * fresh_window() + 59.2]  # 0.8 s before a minute's window ends
    monkeypatch.setattr(TenantUserRateThrottle, "timer", lambda self: now[0])

    statuses = [client.get(ME).status_code for _ in range(3)]
    refused = client.get(ME)
    now[0] += 1.0  # the next window
    again = client.get(ME)

    assert statuses == [200, 200, 200] and refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert again.status_code == 200


def test_each_window_keeps_one_number_per_client_not_a_list_of_calls(client, login, settings, monkeypatch):
    from django.core.cache import cache
    from django.db import connection

    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"tenant_user": "1000/min"}}
    window = fresh_window()
    monkeypatch.setattr(TenantUserRateThrottle, "timer", lambda self: 60.0 * window + 1)
    agent = login("agent")

    for _ in range(20):
        assert client.get(ME).status_code == 200

    assert cache.get(f"throttle:{connection.schema_name}:{agent.pk}:{window}") == 20


def test_without_any_counters_the_api_answers_and_limits_per_process(
    client, login, strict_throttle, monkeypatch, caplog
):
    login("agent")
    monkeypatch.setattr(TenantUserRateThrottle, "cache", BrokenCounters())
    # A fresh memory: an earlier test in this process may have said it this minute.
    monkeypatch.setattr(throttling, "_log", RateLimitedLog(throttling._log.log))

    with caplog.at_level(logging.WARNING, logger="core.api.throttling"):
        statuses = [client.get(ME).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    said = [record.message for record in caplog.records if record.name == "core.api.throttling"]
    assert said == ["API throttle counters unavailable (RuntimeError: no counters today): limiting per process"]
