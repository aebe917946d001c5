"""Where one request's time goes: API ticket create and the ticket list page, through Django's WSGI handler
in this process (every middleware, tenant routing, authentication, view, rendering), on the bench-helpdesk
workspace of bench/helpdesk_tickets.py (run that once first to seed it).

    .venv/bin/python bench/profile_requests.py [--requests 300] [--only create,list] [--top 25]

For each request kind it prints: wall and CPU time per request (p50), SQL queries per request with their time
and the statements grouped by table, and cProfile's cumulative time per request in the parts that matter
(authentication, serializer, contact lookup, SLA clocks, event row, outbox/broker publish, template rendering…),
then the top functions by own time. The HTTP server's share (gunicorn's accept, parse, thread hand-off, the
client's socket) is what bench/helpdesk_tickets.py --only http measures above the in-process wall time here.

DEBUG stays off (as on gunicorn); the broker is a Redis database leased for the run and flushed after, so the
queued intakes never reach a development worker.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
CHILD = "PROFILE_REQUESTS_CHILD"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.models import User  # noqa: E402
from customers.models import Contact  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-helpdesk"
HOST = workspace_domain(SLUG)
settings.ALLOWED_HOSTS.append(HOST)

# Parts of a request, by the functions that do them (file fragment, function name). Cumulative time per request;
# they nest (the serializer's validation is inside the view), so they do not add up to the total.
PARTS = {
    "whole request (WSGI handler)": ("django/test/client.py", "request"),
    "middleware before the view: tenant": ("tenants/middleware.py", "process_request"),
    "authentication (DRF token)": ("rest_framework/authentication.py", "authenticate"),
    "permission check": ("accounts/permissions.py", "has_permission"),
    "input serializer is_valid": ("rest_framework/serializers.py", "is_valid"),
    "ticket_create service": ("helpdesk/services/tickets.py", "ticket_create"),
    "contact lookup/create": ("customers/facade.py", "contact_for_email"),
    "settings read (HelpdeskSettings.current)": ("helpdesk/models", "current"),
    "SLA clocks": ("helpdesk/services/sla/", "ticket_sla_refresh"),
    "ticket INSERT (Model.save)": ("django/db/models/base.py", "save"),
    "event row": ("helpdesk/services/tickets.py", "_event"),
    "intake queued (outbox row)": ("helpdesk/services/intake.py", "intake_on_commit"),
    "commit + on_commit (broker publish)": ("django/db/transaction.py", "__exit__"),
    "broker publish (Celery apply_async)": ("celery/app/task.py", "apply_async"),
    "output serializer .data": ("rest_framework/serializers.py", "data"),
    "JSON rendering": ("rest_framework/renderers.py", "render"),
    "list selector": ("helpdesk/selectors/tickets.py", "ticket_list"),
    "template rendering": ("django/template/base.py", "render"),
    "session load": ("django/contrib/sessions/backends/base.py", "_get_session"),
    "user load": ("django/contrib/auth/__init__.py", "get_user"),
}


class RedisCommands:
    """Counts the Redis commands sent while active (every client of redis-py: cache, broker, throttles)."""

    def __enter__(self) -> RedisCommands:
        import redis.connection

        self.sent: list[str] = []
        self._original = original = redis.connection.AbstractConnection.send_command

        def send_command(connection_, *args, **kwargs):
            self.sent.append(str(args[0]).upper())
            return original(connection_, *args, **kwargs)

        redis.connection.AbstractConnection.send_command = send_command
        return self

    def __exit__(self, *exc) -> None:
        import redis.connection

        redis.connection.AbstractConnection.send_command = self._original


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def _tables(sql: str) -> str:
    verb = sql.split(None, 1)[0].upper()
    found = re.findall(r'(?:FROM|INTO|UPDATE|JOIN)\s+"?([a-z_]+)"?', sql, flags=re.IGNORECASE)
    return f"{verb} {found[0] if found else sql[:60]}"


def _package(file: str) -> str:
    if "site-packages/" in file:
        parts = file.split("site-packages/", 1)[1].split("/")
        return "/".join(parts[:2]) if parts[0] in ("django", "rest_framework") else parts[0]
    if file.startswith(str(ROOT)):
        return file[len(str(ROOT)) + 1 :].split("/", 1)[0] + " (project)"
    return "python stdlib/builtins" if file.startswith(("/", "<", "~")) else file


def profile(label: str, send, requests: int, top: int, clock: str) -> None:
    for index in range(10):  # warm-up: imports, caches, prepared connections
        send(-1 - index)
    wall, cpu = [], []
    for index in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        send(index)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    with CaptureQueriesContext(connection) as queries, RedisCommands() as commands:
        send(requests)
    captured = queries.captured_queries
    sql_ms = sum(float(query["time"]) for query in captured) * 1000
    print(f"\n=== {label}: {requests} requests in-process")
    print(
        f"wall p50 {statistics.median(wall):.1f} ms  p95 {percentile(wall, 0.95):.1f} ms   "
        f"CPU p50 {statistics.median(cpu):.1f} ms"
    )
    print(f"queries per request: {len(captured)} ({sql_ms:.1f} ms of SQL as Django times it)")
    for statement, count in Counter(_tables(query["sql"]) for query in captured).most_common():
        print(f"  {count:2d} × {statement}")
    print(f"Redis commands per request: {len(commands.sent)}")
    for command, count in Counter(commands.sent).most_common():
        print(f"  {count:2d} × {command}")
    profiler = cProfile.Profile(time.process_time) if clock == "cpu" else cProfile.Profile()
    profiler.enable()
    for index in range(requests):
        send(requests + 1 + index)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"cumulative {clock} time per request, by part (cProfile; its own overhead inflates every figure alike):")
    for part, (file_part, name) in PARTS.items():
        total = sum(
            entry[3] for (file, _line, function), entry in stats.stats.items() if function == name and file_part in file
        )
        if total:
            print(f"  {part:<44} {total / requests * 1000:7.2f} ms")
    by_package = Counter()
    for (file, _line, _function), entry in stats.stats.items():
        by_package[_package(file)] += entry[2]
    print("own time per request by package (cProfile):")
    for package, seconds in by_package.most_common(12):
        print(f"  {package:<44} {seconds / requests * 1000:7.2f} ms")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(top)
    print(f"top {top} functions by own time (all {requests} requests):")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", default="create,list")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cProfile's timer: this process's CPU (default: "
        "what the code costs whatever the machine's load and PostgreSQL's share) or wall time (waits included)",
    )
    args = parser.parse_args()
    tenant = Tenant.objects.get(slug=SLUG)
    with tenant_context(tenant):
        agent = User.objects.get(email="agent@bench.test")
        token, _ = Token.objects.get_or_create(user=agent)
        emails = list(Contact.objects.order_by("id").values_list("email", flat=True)[:3000])
        browser = Client(HTTP_HOST=HOST)
        browser.force_login(agent)
    connection.set_schema_to_public()
    api = Client(HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Token {token.key}")
    run = uuid.uuid4().hex[:6]

    def create(index: int) -> None:
        known = index % 10 != 0  # one in ten requesters is new, as in helpdesk_tickets.py
        email = emails[index % len(emails)] if known else f"prof{run}-{index}@example.org"
        body = {
            "subject": f"Profile {index}: printer on floor {index % 7} jams",
            "description": "Since this morning every print job stops halfway and the display shows error 42.",
            "requester_email": email,
            "priority": ("low", "normal", "normal", "high", "urgent")[index % 5],
            "tags": ["bench"],
        }
        response = api.post("/api/v1/tickets/", body, content_type="application/json")
        assert response.status_code == 201, response.content[:500]

    def ticket_list(_index: int) -> None:
        response = browser.get("/tickets/")
        assert response.status_code == 200, response.status_code

    parts = set(args.only.split(","))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; DEBUG={settings.DEBUG}")
    if "create" in parts:
        profile("POST /api/v1/tickets/", create, args.requests, args.top, args.clock)
    if "list" in parts:
        profile("GET /tickets/ (50 rows, full page)", ticket_list, args.requests, args.top, args.clock)


if __name__ == "__main__":
    if os.environ.get(CHILD):
        main()
    else:
        from core.testing.live import rerun_with_a_leased_redis

        sys.exit(rerun_with_a_leased_redis(__file__, CHILD))
