"""The API throttle without Redis: its counters move to the cache's database fallback; with no counters at all it
limits per process and says so once, never answering 500."""

from __future__ import annotations

import logging

import pytest

from core.api import throttling
from core.api.throttling import TenantUserRateThrottle
from core.breaker import RateLimitedLog

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def strict_throttle(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"tenant_user": "3/min"}}


class BrokenCounters:
    def get(self, *args, **kwargs):
        raise RuntimeError("no counters today")

    set = get


def test_the_limit_still_holds_while_redis_refuses_connections(client, login, strict_throttle, redis_outage):
    login("agent")
    redis_outage.refuse()

    statuses = [client.get(ME).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


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
