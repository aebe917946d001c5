"""The per-process circuit breaker: one failure opens it, a background probe (never a request) closes it again."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from core.breaker import CircuitBreaker, RateLimitedLog, redis_breaker, redis_server_name


def eventually(condition, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def quick_cooldown(settings) -> None:
    settings.REDIS_BREAKER_COOLDOWN_SECONDS = 0.05


def test_one_failure_opens_it_and_calls_are_skipped_during_the_cooldown(settings):
    settings.REDIS_BREAKER_COOLDOWN_SECONDS = 60
    probes = []
    breaker = CircuitBreaker("test server", probe=lambda: probes.append(1))

    assert breaker.allows()
    breaker.record_failure(TimeoutError("Timeout reading from socket"))

    assert breaker.is_open and not breaker.allows() and not breaker.allows()
    assert probes == []  # no probe before the cooldown is over


def test_after_the_cooldown_a_background_probe_closes_it_and_no_caller_waits(quick_cooldown):
    entered, release = threading.Event(), threading.Event()

    def slow_probe() -> None:  # a Redis that answers only after a while
        entered.set()
        assert release.wait(10)

    breaker = CircuitBreaker("test server", probe=slow_probe)
    breaker.record_failure(ConnectionRefusedError())
    time.sleep(0.06)

    started = time.monotonic()
    assert not breaker.allows()  # starts the probe, does not wait for it
    assert entered.wait(5) and time.monotonic() - started < 1
    assert not breaker.allows()  # one probe at a time; callers keep skipping
    release.set()

    eventually(lambda: not breaker.is_open)
    assert breaker.allows()


def test_a_failing_probe_keeps_it_open_for_another_cooldown(quick_cooldown, caplog):
    attempts = []

    def refused() -> None:
        attempts.append(1)
        raise ConnectionRefusedError("Connection refused")

    breaker = CircuitBreaker("test server", probe=refused)
    breaker.record_failure(ConnectionRefusedError())
    time.sleep(0.06)
    with caplog.at_level(logging.WARNING, logger="core.breaker"):
        breaker.allows()
        eventually(lambda: attempts and not breaker._probing)
        time.sleep(0.06)
        breaker.allows()
        eventually(lambda: len(attempts) == 2 and not breaker._probing)

    assert breaker.is_open
    assert len([r for r in caplog.records if "still unreachable" in r.message]) == 1  # rate-limited


def test_recovery_hooks_run_before_calls_resume_and_a_failing_hook_keeps_it_open(quick_cooldown):
    order = []
    breaker = CircuitBreaker("test server", probe=lambda: order.append("ping"))
    failing = [True]

    def hook() -> None:
        order.append(f"hook, open={breaker.is_open}")
        if failing[0]:
            raise RuntimeError("the database is away too")

    breaker.on_recovery(hook)
    breaker.on_recovery(hook)  # registered once
    breaker.record_failure(ConnectionRefusedError())
    time.sleep(0.06)
    breaker.allows()
    eventually(lambda: not breaker._probing)
    assert breaker.is_open

    failing[0] = False
    time.sleep(0.06)
    breaker.allows()
    eventually(lambda: not breaker.is_open)
    # Once before closing (calls still skip the server), once after (what they wrote meanwhile).
    assert order == ["ping", "hook, open=True", "ping", "hook, open=True", "hook, open=False"]


def test_without_a_probe_one_caller_is_the_trial_and_its_success_closes_it(quick_cooldown):
    breaker = CircuitBreaker("test server")
    breaker.record_failure(ConnectionRefusedError())
    time.sleep(0.06)

    assert breaker.allows()  # the trial
    assert not breaker.allows()  # everyone else still skips
    breaker.record_success()
    assert breaker.allows() and not breaker.is_open


def test_one_breaker_per_redis_server_whatever_the_database_number():
    assert redis_breaker("redis://127.0.0.1:6390/0") is redis_breaker("redis://127.0.0.1:6390/5")
    assert redis_breaker("redis://127.0.0.1:6390/0") is not redis_breaker("redis://127.0.0.1:6391/0")
    assert redis_server_name("redis://cache.internal/2") == "Redis at cache.internal:6379"


def test_a_rate_limited_log_says_it_once_a_minute_per_key(caplog):
    log = RateLimitedLog(logging.getLogger("test"), every=60)
    with caplog.at_level(logging.WARNING):
        said = [log.warning("a", "first"), log.warning("a", "again"), log.warning("b", "other")]
    assert said == [True, False, True]
    assert [record.message for record in caplog.records] == ["first", "other"]
