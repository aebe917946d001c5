"""/healthz on the public site and on a workspace: 200 when database, Redis, a worker and beat are fine, else 503."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.core.cache import cache
from django_tenants.utils import get_public_schema_name, schema_context

from core.health import BEAT_HEARTBEAT_KEY, BEAT_STALE_AFTER_SECONDS
from core.testing.live import free_port

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]

CHECKS = {"database", "redis", "celery_worker", "celery_beat"}
GRACE = 120


@pytest.fixture(autouse=True)
def started_seconds_ago(monkeypatch, settings):
    """The process's clock, as the health checks read it: started long ago (past the start-up grace) unless a test
    says otherwise."""
    from core import health

    settings.HEALTH_STARTUP_GRACE_SECONDS = GRACE
    uptime = {"seconds": 3600.0}
    monkeypatch.setattr(health, "_now", lambda: health.STARTED + uptime["seconds"])

    def set_uptime(seconds: float) -> None:
        uptime["seconds"] = seconds

    return set_uptime


def beat_ran(seconds_ago: float = 0) -> None:
    """What beat's fan-out task writes every minute (in the public schema, whichever host asks later)."""
    with schema_context(get_public_schema_name()):
        cache.set(BEAT_HEARTBEAT_KEY, time.time() - seconds_ago, timeout=None)


def healthz(browser) -> tuple[int, dict]:
    response = browser.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


def failed(report: dict) -> dict[str, str]:
    return {name: check["error"] for name, check in report["checks"].items() if not check["ok"]}


@pytest.mark.parametrize("host", ["public", "workspace"])
def test_healthz_is_200_when_everything_is_up(live_celery, public_client, client, host):
    beat_ran(seconds_ago=5)

    status, report = healthz(public_client if host == "public" else client)

    assert failed(report) == {}
    assert (status, report["ok"], report["status"]) == (200, True, "ok")
    assert set(report["checks"]) == CHECKS
    assert report["checks"]["celery_worker"]["answered_by"] == live_celery.hostname
    assert report["checks"]["celery_beat"]["last_heartbeat_seconds_ago"] in range(5, 30)


def test_healthz_is_503_when_no_worker_answers(no_celery_worker, public_client, client):
    beat_ran()

    for browser in (public_client, client):
        status, report = healthz(browser)

        assert (status, report["ok"]) == (503, False)
        assert failed(report) == {"celery_worker": "RuntimeError: no Celery worker answered within 1 s"}


def test_healthz_is_503_at_once_when_the_broker_is_down(no_celery_worker, settings, public_client):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    beat_ran()

    started = time.monotonic()
    status, report = healthz(public_client)

    assert time.monotonic() - started < 3
    assert (status, list(failed(report))) == (503, ["celery_worker"])
    assert "Connection refused" in failed(report)["celery_worker"]


def test_healthz_is_503_when_the_beat_heartbeat_is_stale(live_celery, public_client, client):
    beat_ran(seconds_ago=BEAT_STALE_AFTER_SECONDS + 120)

    for browser in (public_client, client):
        status, report = healthz(browser)

        assert status == 503
        assert list(failed(report)) == ["celery_beat"]
        assert re.fullmatch(r"RuntimeError: last beat heartbeat 30\d s ago", failed(report)["celery_beat"])


def test_healthz_is_503_when_beat_has_not_run_by_the_end_of_the_start_up_grace(
    live_celery, public_client, started_seconds_ago
):
    with schema_context(get_public_schema_name()):
        cache.delete(BEAT_HEARTBEAT_KEY)
    started_seconds_ago(GRACE + 1)

    status, report = healthz(public_client)

    assert (status, report["status"]) == (503, "failing")
    assert failed(report) == {"celery_beat": "RuntimeError: beat has not run yet"}


def test_healthz_reports_starting_while_beat_has_not_run_in_the_start_up_grace(
    live_celery, public_client, client, started_seconds_ago
):
    with schema_context(get_public_schema_name()):
        cache.delete(BEAT_HEARTBEAT_KEY)
    started_seconds_ago(20)

    for browser in (public_client, client):
        status, report = healthz(browser)

        assert (status, report["ok"], report["status"]) == (200, True, "starting")
        assert failed(report) == {}
        assert report["checks"]["celery_beat"] == {
            "ok": True,
            "status": "starting",
            "detail": "RuntimeError: beat has not run yet",
            "grace_seconds_left": GRACE - 20,
        }


def test_a_worker_not_answering_yet_is_starting_in_the_grace_then_503(
    no_celery_worker, public_client, started_seconds_ago, monkeypatch
):
    # The worker check's own 1 s ping must end first, however loaded the machine: the report's 1.5 s deadline
    # would otherwise answer instead, with its own message.
    monkeypatch.setattr("core.health.DEADLINE_SECONDS", 30)
    beat_ran()
    started_seconds_ago(5)
    status, report = healthz(public_client)
    assert (status, report["status"], report["checks"]["celery_worker"]["status"]) == (200, "starting", "starting")

    started_seconds_ago(GRACE)
    status, report = healthz(public_client)
    assert (status, report["status"]) == (503, "failing")
    assert failed(report) == {"celery_worker": "RuntimeError: no Celery worker answered within 1 s"}


def test_the_grace_excuses_nothing_that_failed_after_working(live_celery, public_client, started_seconds_ago):
    """A stale heartbeat means beat ran and stopped: 503 even right after this process started."""
    beat_ran(seconds_ago=BEAT_STALE_AFTER_SECONDS + 120)
    started_seconds_ago(5)

    status, report = healthz(public_client)

    assert (status, report["status"], list(failed(report))) == (503, "failing", ["celery_beat"])


def test_a_refusing_broker_is_503_in_the_grace_too(no_celery_worker, settings, public_client, started_seconds_ago):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    beat_ran()
    started_seconds_ago(5)

    status, report = healthz(public_client)

    assert (status, list(failed(report))) == (503, ["celery_worker"])


def test_beat_heartbeat_from_the_real_fanout_task_makes_healthz_green(live_celery, public_client):
    """The worker runs beat's task itself; /healthz then finds its heartbeat (the worker shares our Redis)."""
    from config.celery import app

    with schema_context(get_public_schema_name()):
        cache.delete(BEAT_HEARTBEAT_KEY)
        app.signature("tenants.tasks.tenants_heartbeat_fanout_task").delay().get(timeout=20)

    status, report = healthz(public_client)

    assert (status, failed(report)) == (200, {})


def test_healthz_answers_within_2_s_and_names_redis_when_it_hangs(redis_outage, public_client):
    beat_ran(seconds_ago=5)
    redis_outage.hang()

    started = time.monotonic()
    status, report = healthz(public_client)

    assert time.monotonic() - started < 2
    assert status == 503 and report["checks"]["database"]["ok"]
    assert failed(report)["redis"] == "TimeoutError: Timeout reading from socket"
    assert "celery_worker" in failed(report)  # the broker is the same hung server


def test_a_check_that_never_answers_fails_at_the_deadline_and_the_others_still_report(live_celery, monkeypatch):
    from core import health

    release = threading.Event()
    monkeypatch.setitem(health.CHECKS, "database", lambda: release.wait(30))
    beat_ran()
    try:
        started = time.monotonic()
        report = health.health_report()
        elapsed = time.monotonic() - started
    finally:
        release.set()

    assert elapsed < 2
    assert failed(report) == {"database": "TimeoutError: no answer within 1.5 s"}
    assert report["checks"]["celery_worker"]["answered_by"] == live_celery.hostname
