"""Helpdesk at 100k tickets: the ticket list and search through the whole Django stack (p50/p95, SQL queries per
page), ticket creation through the API on the HTTP server `make run` starts (tickets/s, p95), and
live-notification latency from commit to a websocket client.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/helpdesk_tickets.py [--tickets 100000] [--requests 200] [--creates 1000] [--clients 8]
        [--live 200] [--only list,create,live] [--drop]
    .venv/bin/python bench/helpdesk_tickets.py --only http [--peer /work/peer] [--compare-with DIR] [--rounds 2]
        [--http-creates 300] [--list-requests 100] [--http-clients 4]

`--only http` is the side-by-side comparison: gunicorn as `make run` starts it (2 gthread workers × 4 threads,
DEBUG off), one keep-alive HTTP client, then 4; API ticket create and the full ticket list page (50 rows), each
sequential (p50/p95) and with 4 clients (per second), with the HTTP server's CPU per request (what a request costs
whatever the machine's load) and the page's bytes raw and gzipped. `--peer DIR` adds django-helpdesk 2.6.1 in the
same interleaved rounds (its API create; its ticket list's datatables JSON, 25 rows): install it outside the
checkout first, as bench/helpdesk_peer.py says. `--compare-with DIR` adds another checkout of Switchboard
(`git archive <commit> | tar -x -C DIR`, with DIR/var a link to this checkout's var/) on the same database.

The first run seeds a workspace "bench-helpdesk" (kept for later runs; `--drop` removes it): 2,000 customers,
6,000 contacts, 24 agents, the demo configuration (helpdesk.demo.setup) and `--tickets` tickets written by one
INSERT … SELECT over generate_series (texts composed by helpdesk.demo), with two messages on 30 % of them. The
full-text triggers run as the rows go in; the seeding time printed includes them.

List requests go through the whole stack in-process (middleware, tenant routing, session, view, template) as
the agent "agent@bench.test". The API and websocket figures use real servers started as `make run` starts them:
gunicorn (two gthread workers of four threads, config.wsgi) for HTTP and daphne for websockets (DEBUG off, the
throttle lifted); clients are threads with keep-alive connections in this process, on the same machine. The servers
and this process use a Redis database leased for the run (core.testing.live), so queued AI analyses never reach
a development worker; it is flushed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gzip
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from core.testing.live import CeleryWorker, database_url, server_env  # noqa: E402
from customers.demo import seed_customers  # noqa: E402
from customers.models import Contact  # noqa: E402
from helpdesk.demo import text as demo_text  # noqa: E402
from helpdesk.demo.compose import Composer  # noqa: E402
from helpdesk.demo.setup import ensure_setup  # noqa: E402
from helpdesk.models import HelpdeskSettings, Ticket, TicketMessage  # noqa: E402
from helpdesk.selectors import tickets as ticket_selectors  # noqa: E402
from helpdesk.services import tickets as ticket_services  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

CHILD = "HELPDESK_BENCH_CHILD"
SLUG = "bench-helpdesk"
HOST = workspace_domain(SLUG)
AGENTS = 24
TEXT_POOL = 5000
BIN = Path(sys.executable).parent
settings.ALLOWED_HOSTS.append("testserver")
SEARCH_TERMS = (
    "invoice",
    "refund",
    "password reset",
    "slow dashboard",
    "tracking",
    "damaged",
    "export csv",
    "two-factor",
    "charged twice",
    "login",
    "inv",
    "passw",
    "deliv",
    "crash",
    "timeout",
)


# --- Seeding ------------------------------------------------------------------------------------


def workspace(tickets: int) -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Helpdesk")
    with tenant_context(tenant):
        agents = _agents()
        started = time.perf_counter()
        if seed_customers(owners=agents[:1], customers=2000, contacts=6000, seed=7):
            print(f"seeded 2,000 customers and 6,000 contacts in {time.perf_counter() - started:.1f} s")
        setup = ensure_setup(agents=agents, rng=random.Random(1), today=timezone.now().date())
        missing = tickets - Ticket.objects.count()
        if missing > 0:
            started = time.perf_counter()
            messages = _seed_tickets(missing, agents, setup)
            seconds = time.perf_counter() - started
            print(
                f"seeded {missing:,} tickets and {messages:,} messages in {seconds:.1f} s (triggers, ANALYZE included)"
            )
    return tenant


def _agents() -> list[User]:
    wanted = ["agent@bench.test", *(f"agent{index:02d}@bench.test" for index in range(2, AGENTS + 1))]
    existing = set(User.objects.filter(email__in=wanted).values_list("email", flat=True))
    password = make_password(settings.DEMO_PASSWORD)
    User.objects.bulk_create(
        User(email=email, name=f"Bench Agent {index + 1}", role=Role.AGENT, password=password)
        for index, email in enumerate(wanted)
        if email not in existing
    )
    User.objects.get_or_create(
        email="watcher@bench.test", defaults={"role": Role.VIEWER, "name": "Bench Watcher", "password": password}
    )
    return list(User.objects.filter(email__in=wanted).order_by("email"))


def _seed_tickets(count: int, agents: list[User], setup) -> int:
    rng = random.Random(11)
    composer = Composer(rng)
    categories = list(demo_text.CATEGORY_WEIGHTS)
    weights = list(demo_text.CATEGORY_WEIGHTS.values())
    texts = []
    for number in range(1, TEXT_POOL + 1):
        key = rng.choices(categories, weights)[0]
        subject, body, _ = composer.ticket(key, rng.choice(("Maria", "Tom", "Aisha", "Jonas", "Priya")))
        category = setup.categories[key]
        texts.append((number, subject[:200], body, category.pk, category.default_team_id))
    replies = [line for lines in demo_text.FIRST_REPLIES.values() for line in lines]
    urgent = next(policy.pk for policy in setup.policies if policy.priority == "urgent")
    standard = setup.policies[-1].pk
    first_new = (Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_text (n int PRIMARY KEY, subject text, body text, category_id bigint, "
            "team_id bigint) ON COMMIT DROP"
        )
        cursor.executemany("INSERT INTO bench_text VALUES (%s, %s, %s, %s, %s)", texts)
        cursor.execute(
            "CREATE TEMP TABLE bench_contact ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY id) AS n, id, "
            f"customer_id FROM {Contact._meta.db_table}"
        )
        cursor.execute("CREATE TEMP TABLE bench_agent (n int PRIMARY KEY, user_id bigint) ON COMMIT DROP")
        cursor.executemany("INSERT INTO bench_agent VALUES (%s, %s)", list(enumerate((a.pk for a in agents), 1)))
        cursor.execute("SELECT setseed(0.42)")
        params = {
            "count": count,
            "span": 365 * 24 * 3600,
            "texts": TEXT_POOL,
            "contacts": Contact.objects.count(),
            "agents": len(agents),
            "urgent": urgent,
            "standard": standard,
        }
        cursor.execute(TICKETS_SQL, params)
        cursor.execute(
            MESSAGES_SQL, {"first": first_new, "replies": replies, "nudges": list(demo_text.CUSTOMER_FOLLOW_UPS)}
        )
        messages = cursor.rowcount
        cursor.execute(f"ANALYZE {Ticket._meta.db_table}, {TicketMessage._meta.db_table}")
    return messages


# One row per ticket, oldest first (numbers follow time), shaped like a year of a busy helpdesk: older tickets are
# closed but for a tail of stale ones, the last two weeks hold the open work.
TICKETS_SQL = """
WITH base AS (
    SELECT g, random() AS r_status, random() AS r_priority, random() AS r_agent, random() AS r_contact,
           random() AS r_due, random() AS r_text, random() AS r_tag,
           now() - make_interval(secs => (%(count)s - g)::float8 * %(span)s / %(count)s + random() * 60) AS created
    FROM generate_series(1, %(count)s) AS g
), shaped AS (
    SELECT b.*,
        CASE WHEN b.created < now() - interval '14 days' THEN
            CASE WHEN r_status < 0.92 THEN 'closed' WHEN r_status < 0.95 THEN 'solved' WHEN r_status < 0.97 THEN 'open'
                 WHEN r_status < 0.99 THEN 'pending' ELSE 'on_hold' END
        ELSE
            CASE WHEN r_status < 0.10 THEN 'new' WHEN r_status < 0.45 THEN 'open' WHEN r_status < 0.60 THEN 'pending'
                 WHEN r_status < 0.65 THEN 'on_hold' WHEN r_status < 0.90 THEN 'solved' ELSE 'closed' END
        END AS status,
        CASE WHEN r_priority < 0.2 THEN 'low' WHEN r_priority < 0.7 THEN 'normal' WHEN r_priority < 0.92 THEN 'high'
             ELSE 'urgent' END AS priority
    FROM base b
), timed AS (
    SELECT s.*,
        CASE WHEN status IN ('solved', 'closed')
             THEN LEAST(now(), created + r_due * interval '3 days') END AS solved_at,
        CASE WHEN status IN ('new', 'open', 'pending', 'on_hold')
             THEN now() + make_interval(mins => (r_due * 3000 - 240)::int) END AS due_at
    FROM shaped s
)
INSERT INTO helpdesk_ticket (
    subject, original_description, improved_description, status, priority, type, category_id, channel,
    requester_id, customer_id, assignee_id, team_id, tags, cc, merged_into_id, ai_suggestions, ai_analysis_date,
    ai_analysis_status, sentiment, language, sla_policy_id, first_response_due, next_response_due, resolution_due,
    first_responded_at, sla_paused_at, sla_breached, sla_warned, sla_due_at, sla_warn_at, sla_paused_minutes,
    sla_first_response_minutes, sla_resolution_minutes, breach_risk, created, updated, last_customer_message_at,
    last_agent_message_at, solved_at, closed_at, auto_closed, version
)
SELECT
    t.subject, t.body, '', status, priority, (ARRAY['question', 'incident', 'problem', 'task'])[1 + mod(g, 4)],
    t.category_id, (ARRAY['email', 'email', 'help_center', 'chat', 'phone', 'web', 'api'])[1 + mod(g, 7)],
    c.id, c.customer_id, CASE WHEN status = 'new' THEN NULL ELSE a.user_id END, t.team_id,
    CASE WHEN r_tag < 0.08 THEN ARRAY['vip'] WHEN r_tag < 0.12 THEN ARRAY['outage'] ELSE ARRAY[]::text[] END,
    ARRAY[]::text[], NULL, '{}'::jsonb, NULL, '', '', 'en',
    CASE WHEN priority = 'urgent' THEN %(urgent)s ELSE %(standard)s END,
    created + interval '4 hours', NULL, created + interval '3 days',
    CASE WHEN status = 'new' THEN NULL ELSE created + r_due * interval '5 hours' END,
    CASE WHEN status IN ('pending', 'on_hold') THEN created + interval '1 hour' ELSE solved_at END,
    CASE WHEN due_at IS NOT NULL THEN due_at < now() ELSE r_due > 0.88 END,
    CASE WHEN due_at IS NOT NULL THEN due_at < now() + interval '1 hour' ELSE r_due > 0.8 END,
    due_at, due_at - interval '1 hour', 0,
    CASE WHEN status = 'new' THEN NULL ELSE r_due * 300 END, NULL, NULL,
    created, COALESCE(solved_at, LEAST(now(), created + r_due * interval '1 day')), created,
    CASE WHEN status = 'new' THEN NULL ELSE created + r_due * interval '5 hours' END,
    solved_at, CASE WHEN status = 'closed' THEN LEAST(now(), solved_at + interval '4 days') END, false,
    1 + mod(g, 4)
FROM timed
JOIN bench_text t ON t.n = 1 + floor(r_text * %(texts)s)::int
JOIN bench_contact c ON c.n = 1 + floor(r_contact * %(contacts)s)::int
JOIN bench_agent a ON a.n = 1 + floor(r_agent * %(agents)s)::int
ORDER BY g
"""

# The agent's first reply on 30 % of the new tickets and the customer's answer on 20 %: one statement, so the
# message trigger rebuilds each ticket's search vector once.
MESSAGES_SQL = """
INSERT INTO helpdesk_ticketmessage (
    ticket_id, kind, body, author_id, author_contact_id, channel, external_id, created,
    "to", cc, bcc, delivery_status, delivery_detail
)
SELECT id, 'reply', (%(replies)s::text[])[1 + mod(id, cardinality(%(replies)s::text[]))], assignee_id, NULL, 'web', '',
       first_responded_at, ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[], '', ''
FROM helpdesk_ticket WHERE id >= %(first)s AND first_responded_at IS NOT NULL AND mod(id, 10) < 3
UNION ALL
SELECT id, 'reply', (%(nudges)s::text[])[1 + mod(id, cardinality(%(nudges)s::text[]))], NULL, requester_id, 'email', '',
       first_responded_at + interval '2 hours', ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[], '', ''
FROM helpdesk_ticket WHERE id >= %(first)s AND first_responded_at IS NOT NULL AND mod(id, 10) < 2
"""


# --- The list, in-process -----------------------------------------------------------------------


@dataclass
class Timings:
    """Wall-clock and this process's CPU time per request (CPU leaves out PostgreSQL and the machine's load)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def __iadd__(self, other: Timings) -> Timings:
        self.wall += other.wall
        self.cpu += other.cpu
        return self


def timed_get(client: Client, url: str, runs: int, headers: dict) -> Timings:
    timings = Timings()
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        timings.wall.append((time.perf_counter() - started) * 1000)
        timings.cpu.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def count_queries(client: Client, url: str, headers: dict) -> tuple[int, int, float]:
    """Queries of one request, how many set the search_path, and their total time in ms."""
    with CaptureQueriesContext(connection) as queries:
        client.get(url, **headers)
    captured = queries.captured_queries
    seconds = sum(float(query["time"]) for query in captured)
    return len(captured), sum("search_path" in query["sql"] for query in captured), seconds * 1000


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def report(label: str, timings: Timings | list[float], queries: tuple[int, int, float] | None = None) -> None:
    wall = timings.wall if isinstance(timings, Timings) else timings
    line = f"{label:<42} p50 {statistics.median(wall):6.1f} ms  p95 {percentile(wall, 0.95):6.1f} ms"
    if isinstance(timings, Timings):
        line += f"  CPU p50 {statistics.median(timings.cpu):5.1f} ms"
    if queries is not None:
        line += f"  queries {queries[0]:2d} (SQL {queries[2]:5.1f} ms, SET search_path {queries[1]})"
    print(line)


def deep_cursor(tenant: Tenant, agent: User, pages: int) -> str:
    from helpdesk.forms import list_query

    cursor = None
    with tenant_context(tenant):
        query = list_query({"status": "unsolved"}, user=agent)
        for _ in range(pages):
            page = ticket_selectors.ticket_list(filters=query.filters, sort=query.sort, cursor=cursor)
            cursor = page.next_cursor or cursor
    return quote(cursor or "")


def bench_list(tenant: Tenant, requests: int) -> None:
    with tenant_context(tenant):
        agent = User.objects.get(email="agent@bench.test")
        total = Ticket.objects.count()
        unsolved = Ticket.objects.open().count()
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=HOST)
    with tenant_context(tenant):
        client.force_login(agent)
    connection.set_schema_to_public()
    print(f"\nworkspace {SLUG}: {total:,} tickets ({unsolved:,} unsolved), {requests} requests per line")
    table = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-table"}
    lines = {
        "all open (status=unsolved)": ("/tickets/?status=unsolved", {}),
        "my open": ("/tickets/?assignee=me&status=unsolved", {}),
        "unassigned": ("/tickets/?assignee=none&status=unsolved", {}),
        "breaching soon (sla=breaching, by due)": ("/tickets/?sla=breaching&sort=due", {}),
        "all, newest first": ("/tickets/", {}),
        "all open, HTMX table only": ("/tickets/?status=unsolved", table),
        "all open, page 50 (keyset cursor)": (f"/tickets/?status=unsolved&cursor={deep_cursor(tenant, agent, 49)}", {}),
        "search 'invoice' (full page)": ("/tickets/?q=invoice", {}),
        "search 'password reset', HTMX table": ("/tickets/?q=password+reset", table),
        "API all open, page_size 10": ("/api/v1/tickets/?status=unsolved&page_size=10", {}),
        "API all open, page_size 50": ("/api/v1/tickets/?status=unsolved&page_size=50", {}),
        "API all open, page_size 200": ("/api/v1/tickets/?status=unsolved&page_size=200", {}),
        "API search 'refund', page_size 50": ("/api/v1/tickets/?q=refund&page_size=50", {}),
    }
    for label, (url, headers) in lines.items():
        timed_get(client, url, 5, headers)  # warm-up
        report(label, timed_get(client, url, requests, headers), count_queries(client, url, headers))
    print(f"\nsearch as you type: {len(SEARCH_TERMS)} terms, HTMX table fragment, {requests} requests in all")
    timings = Timings()
    for index in range(requests):
        term = SEARCH_TERMS[index % len(SEARCH_TERMS)]
        timings += timed_get(client, f"/tickets/?q={quote(term)}", 1, table)
    report("search (all terms)", timings)
    worst = max(
        SEARCH_TERMS, key=lambda term: statistics.median(timed_get(client, f"/tickets/?q={quote(term)}", 5, table).wall)
    )
    report(f"slowest term '{worst}'", timed_get(client, f"/tickets/?q={quote(worst)}", 40, table))


# --- Real servers -------------------------------------------------------------------------------


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    os.set_inheritable(sock.fileno(), True)
    return sock


class Servers:
    """The web processes as `make run` starts them (scripts/devstack.py): gunicorn for HTTP (two gthread workers
    of four threads, config.wsgi) and daphne for websockets, each on a listening socket opened here."""

    def __init__(self, log_dir: Path, *, websockets: bool = True, source: Path = ROOT) -> None:
        self.http_sock, self.ws_sock = _listening_socket(), _listening_socket()
        self.port, self.ws_port = self.http_sock.getsockname()[1], self.ws_sock.getsockname()[1]
        env = os.environ | {
            "DEBUG": "0",
            "API_THROTTLE_RATE": "1000000/min",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "LIVE_SOCKET_PORT": str(self.ws_port),
            "LIVE_SOCKET_ORIGIN_PORTS": str(self.port),  # daphne takes sockets from gunicorn's pages, as in make run
        }
        http_fd, ws_fd = self.http_sock.fileno(), self.ws_sock.fileno()
        commands = {
            "gunicorn": [
                *(str(BIN / "gunicorn"), "--bind", f"fd://{http_fd}", "--workers", "2", "--threads", "4"),
                *("--worker-class", "gthread", "config.wsgi:application"),
            ],
            "daphne": [str(BIN / "daphne"), "--fd", str(ws_fd), "-v", "1", "config.asgi:application"],
        }
        if not websockets:
            del commands["daphne"]
        self.logs = {name: log_dir / f"{name}-{source.name}.log" for name in commands}
        self.processes = {
            name: subprocess.Popen(
                args,
                cwd=source,
                env=env,
                pass_fds=(http_fd, ws_fd),
                stdout=self.logs[name].open("wb"),
                stderr=subprocess.STDOUT,
            )
            for name, args in commands.items()
        }
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + 90
        waiting = {self.port, self.ws_port} if "daphne" in self.processes else {self.port}
        while waiting and time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.logs[name].read_text()[-3000:]}")
            for port in list(waiting):
                try:
                    if request("GET", "/api/v1/me/", port=port)[0] == 401:  # routed, authenticated: Django is up
                        waiting.discard(port)
                except OSError:
                    pass
            time.sleep(0.3)
        if waiting:
            raise TimeoutError("the web servers did not start within 90 s")

    def http_cpu_seconds(self) -> float:
        """User + system CPU the HTTP server's processes (master and workers) used so far."""
        import psutil

        master = psutil.Process(self.processes["gunicorn"].pid)
        return sum(sum(process.cpu_times()[:2]) for process in [master, *master.children(recursive=True)])

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.http_sock.close()
        self.ws_sock.close()


def request(method: str, path: str, *, port: int, body: dict | None = None, headers: dict | None = None):
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return _send(connection_, method, path, body=body, headers=headers)
    finally:
        connection_.close()


def _send(conn: http.client.HTTPConnection, method: str, path: str, *, body=None, headers=None):
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = {"Host": HOST, "Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=payload, headers=all_headers)
    response = conn.getresponse()
    return response.status, response.read()


def bench_create(tenant: Tenant, servers: Servers, creates: int, clients: int) -> None:
    with tenant_context(tenant):
        agent = User.objects.get(email="agent@bench.test")
        token, _ = Token.objects.get_or_create(user=agent)
        emails = list(Contact.objects.order_by("id").values_list("email", flat=True)[:3000])
    connection.set_schema_to_public()
    auth = {"Authorization": f"Token {token.key}"}
    local = threading.local()

    def create(index: int) -> tuple[float, int]:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", servers.port, timeout=60)
        known = index % 10 != 0  # one in ten requesters is new: their contact is created on the way
        body = {
            "subject": f"Bench {index}: printer on floor {index % 7} jams",
            "description": "Since this morning every print job stops halfway and the display shows error 42.",
            "requester_email": emails[index % len(emails)]
            if known
            else f"new{index}-{uuid.uuid4().hex[:6]}@example.org",
            "priority": ("low", "normal", "normal", "high", "urgent")[index % 5],
            "tags": ["bench"],
        }
        started = time.perf_counter()
        try:
            status, _ = _send(local.conn, "POST", "/api/v1/tickets/", body=body, headers=auth)
        except (OSError, http.client.HTTPException):
            local.conn.close()
            local.conn = http.client.HTTPConnection("127.0.0.1", servers.port, timeout=60)
            status = 599
        return (time.perf_counter() - started) * 1000, status

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(create, range(clients * 5)))  # warm-up: every connection, both processes
        started, server_cpu, client_cpu = time.perf_counter(), servers.http_cpu_seconds(), time.process_time()
        results = list(pool.map(create, range(creates)))
        seconds = time.perf_counter() - started
        server_cpu, client_cpu = servers.http_cpu_seconds() - server_cpu, time.process_time() - client_cpu
    timings = [ms for ms, status in results if status == 201]
    failed = {status for _, status in results if status != 201}
    print(f"\nAPI ticket create: {creates} POST /api/v1/tickets/, {clients} keep-alive clients, gunicorn 2 × 4 threads")
    print(
        f"{'created':<46} {len(timings) / seconds:7.1f} tickets/s   p50 {statistics.median(timings):7.1f} ms   "
        f"p95 {percentile(timings, 0.95):7.1f} ms   errors {creates - len(timings)} {sorted(failed) or ''}"
    )
    print(
        f"{'CPU per create':<46} gunicorn {server_cpu / creates * 1000:5.1f} ms (all workers), "
        f"this client {client_cpu / creates * 1000:4.1f} ms; PostgreSQL not counted"
    )


def bench_live(tenant: Tenant, servers: Servers, count: int, log_dir: Path) -> None:
    """Tickets created here, committed here; the clock stops when a websocket client of another user has the
    fragment (the list row or the toast, whichever comes first).

    The row and toast leave from the ticket's intake, which a real Celery worker runs after the commit (as in
    production). The workspace's AI analysis is off for this part, so the worker's single process does only the
    intakes (helpdesk_analysis.py times the analysis); the create part's queued intakes are dropped first.
    """
    import redis
    import websockets

    with tenant_context(tenant):
        agent = User.objects.get(email="agent@bench.test")
        watcher = User.objects.get(email="watcher@bench.test")
        contact = Contact.objects.order_by("id").first()
        browser = Client(HTTP_HOST=HOST)
        browser.force_login(watcher)
        cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    connection.set_schema_to_public()
    arrivals: dict[str, float] = {}
    received: list[str] = []
    ready, done = threading.Event(), threading.Event()
    marker = re.compile(r"live-bench-([0-9a-f]{12})")

    async def listen() -> None:
        uri = f"ws://{HOST}:{servers.ws_port}/ws/live/"
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
        origin = f"http://{HOST}:{servers.port}"
        async with websockets.connect(uri, origin=origin, additional_headers=headers, host="127.0.0.1") as ws:
            ready.set()
            while not done.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                now = time.perf_counter()
                received.append(message)
                for found in marker.findall(message):
                    arrivals.setdefault(found, now)

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(listen())
        except BaseException as error:  # reported below: a refused or dropped socket must not look like silence
            failures.append(error)
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(20) or failures:
        raise RuntimeError(f"the websocket did not connect: {failures}")
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")
    env = server_env(database=database_url(connection.settings_dict), redis_url=settings.REDIS_URL)
    worker = CeleryWorker.start(env=env, redis_url=settings.REDIS_URL, log_dir=log_dir)
    try:
        _create_live_tickets(tenant, count, agent=agent, contact=contact, committed=(committed := {}))
        deadline = time.monotonic() + 10
        while len(arrivals) < len(committed) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    done.set()
    thread.join(5)
    if failures:
        raise RuntimeError(f"the websocket failed: {failures[0]!r}")
    latencies = [(arrivals[key] - at) * 1000 for key, at in committed.items() if key in arrivals]
    print(f"\nlive notification: {count} tickets created and committed here, intake by a Celery worker, websocket")
    if latencies:
        report(f"commit → fragment at the client ({len(latencies)}/{count})", latencies)
    else:
        print(f"no fragment arrived: {len(received)} messages, {len(committed)} commits; first: {received[:1]}")


def _create_live_tickets(tenant: Tenant, count: int, *, agent, contact, committed: dict[str, float]) -> None:
    with tenant_context(tenant):
        analysis_was = HelpdeskSettings.current().analysis_enabled
        HelpdeskSettings.objects.update_or_create(pk=1, defaults={"analysis_enabled": False})
        try:
            for _ in range(count):
                key = uuid.uuid4().hex[:12]
                with transaction.atomic():
                    transaction.on_commit(lambda key=key: committed.__setitem__(key, time.perf_counter()))
                    ticket_services.ticket_create(
                        subject=f"live-bench-{key} projector flickers",
                        description="The projector in room 2 flickers.",
                        requester=contact,
                        actor=agent,
                    )
                time.sleep(0.05)
        finally:
            HelpdeskSettings.objects.update_or_create(pk=1, defaults={"analysis_enabled": analysis_was})


# --- HTTP, side by side with django-helpdesk -------------------------------------------------------


@dataclass
class Target:
    """One server under test: how to create a ticket and fetch one list page with a keep-alive connection."""

    name: str
    port: int
    host: str
    create: Callable[[int], tuple[str, dict]]  # index → (path, JSON body)
    create_headers: dict
    list_path: str
    list_headers: dict
    rows: Callable[[bytes], int]
    server_pid: int = 0
    local: threading.local = field(default_factory=threading.local)

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's processes (master and workers) so far: what a request costs whatever
        the machine's load."""
        import psutil

        master = psutil.Process(self.server_pid)
        return sum(sum(process.cpu_times()[:2]) for process in [master, *master.children(recursive=True)])

    def send(self, method: str, path: str, headers: dict, body: dict | None = None) -> tuple[int, bytes, dict]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Host": self.host, "Accept-Encoding": "gzip", **headers}
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            return 599, b"", {}

    def create_one(self, index: int) -> int:
        path, body = self.create(index)
        return self.send("POST", path, self.create_headers, body)[0]

    def list_one(self, _index: int) -> int:
        status, body, headers = self.send("GET", self.list_path, self.list_headers)
        if status == 200 and self.rows(_decoded(body, headers)) < 1:
            return 598  # a page without rows would time the wrong thing
        return status


def _decoded(body: bytes, headers: dict) -> bytes:
    encoding = {key.lower(): value for key, value in headers.items()}.get("content-encoding", "")
    return gzip.decompress(body) if encoding == "gzip" else body


def timed_calls(
    target: Target, call: Callable[[int], int], count: int, clients: int
) -> tuple[list[float], float, int, float]:
    """Timings (ms) of the successful calls, calls per second, errors, server CPU ms per call. One keep-alive
    connection per client."""

    def one(index: int) -> tuple[float, int]:
        started = time.perf_counter()
        status = call(index)
        return (time.perf_counter() - started) * 1000, status

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(count, count + clients * 3)))  # warm-up: every connection, every worker
        started, cpu, database = time.perf_counter(), target.cpu_seconds(), database_cpu_seconds()
        results = list(pool.map(one, range(count)))
        seconds, cpu = time.perf_counter() - started, target.cpu_seconds() - cpu
        database = database_cpu_used(database, database_cpu_seconds())
    ok = [ms for ms, status in results if status in (200, 201)]
    return ok, len(ok) / seconds, count - len(ok), cpu / count * 1000, database / count * 1000


def database_cpu_seconds() -> dict[int, float]:
    """User + system CPU of each of the PostgreSQL cluster's processes so far, by pid (its background workers
    included: on two cores the database's share decides throughput as much as the web server's). Both products use
    this cluster. Empty when it is not the embedded one (DATABASE_URL elsewhere): not measured."""
    import psutil

    settings_dict = connection.settings_dict
    socket_dir = settings_dict.get("HOST") or (settings_dict.get("OPTIONS") or {}).get("host") or ""
    pid_file = Path(socket_dir) / "postmaster.pid"  # the embedded cluster keeps its socket in its data directory
    if not pid_file.is_file():
        return {}
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    seconds = {}
    for process in [postmaster, *postmaster.children()]:
        with contextlib.suppress(psutil.Error):
            seconds[process.pid] = sum(process.cpu_times()[:2])
    return seconds


def database_cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the cluster used between two readings: processes that ended in between (an autovacuum worker) count
    for nothing, those that started count in full."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


def page_weight(target: Target) -> tuple[int, int, int]:
    """Rows, bytes of the page as rendered, and bytes on the wire when the client accepts gzip (compressed
    here at level 6 when the server does not)."""
    status, body, headers = target.send("GET", target.list_path, target.list_headers)
    assert status == 200, (target.name, status)
    raw = _decoded(body, headers)
    wire = len(body) if len(body) != len(raw) else len(gzip.compress(raw, 6))
    return target.rows(raw), len(raw), wire


def switchboard_target(tenant: Tenant, servers: Servers) -> Target:
    with tenant_context(tenant):
        agent = User.objects.get(email="agent@bench.test")
        token, _ = Token.objects.get_or_create(user=agent)
        emails = list(Contact.objects.order_by("id").values_list("email", flat=True)[:3000])
        browser = Client(HTTP_HOST=HOST)
        browser.force_login(agent)
        cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    connection.set_schema_to_public()

    def create(index: int) -> tuple[str, dict]:
        known = index % 10 != 0  # one in ten requesters is new: their contact is created on the way
        email = emails[index % len(emails)] if known else f"new{index}-{uuid.uuid4().hex[:6]}@example.org"
        return "/api/v1/tickets/", _ticket_body(index) | {"requester_email": email, "tags": ["bench"]}

    return Target(
        name="Switchboard",
        port=servers.port,
        server_pid=servers.processes["gunicorn"].pid,
        host=HOST,
        create=create,
        create_headers={"Authorization": f"Token {token.key}"},
        list_path="/tickets/",
        list_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        rows=lambda body: body.count(b'id="ticket-row-'),
    )


def peer_target(peer, server: PeerServer, emails: list[str]) -> Target:
    # The peer's own ticket list page asks this endpoint for its rows: open tickets, oldest first, 25 a page.
    query = base64.b64encode(
        json.dumps(
            {"filtering": {"status__in": [1, 2]}, "sorting": "created", "search_string": "", "sortreverse": False}
        ).encode()
    ).decode()

    def create(index: int) -> tuple[str, dict]:
        body = _ticket_body(index)
        priority = {"low": 4, "normal": 3, "high": 2, "urgent": 1}[body.pop("priority")]
        email = emails[index % len(emails)] if index % 10 else f"new{index}-{uuid.uuid4().hex[:6]}@example.org"
        body = {"title": body["subject"], "description": body["description"], "priority": priority}
        return "/helpdesk/api/tickets/", body | {"queue": peer.queue_id, "submitter_email": email}

    return Target(
        name="django-helpdesk",
        port=server.port,
        server_pid=server.process.pid,
        host="127.0.0.1",
        create=create,
        create_headers={"Authorization": f"Token {peer.token}"},
        list_path=f"/helpdesk/datatables_ticket_list/{query}?draw=1&start=0&length=25",
        list_headers={"Cookie": f"sessionid={peer.session}"},
        rows=lambda body: len(json.loads(body)["data"]),
    )


def _ticket_body(index: int) -> dict:
    return {
        "subject": f"Bench {index}: printer on floor {index % 7} jams",
        "description": "Since this morning every print job stops halfway and the display shows error 42.",
        "priority": ("low", "normal", "normal", "high", "urgent")[index % 5],
    }


class PeerServer:
    """django-helpdesk under gunicorn, two sync workers, from its own virtualenv."""

    def __init__(self, peer, log_dir: Path) -> None:
        self.sock = _listening_socket()
        self.port = self.sock.getsockname()[1]
        self.log = log_dir / "peer-gunicorn.log"
        self.process = subprocess.Popen(
            peer.gunicorn_command(self.sock.fileno()),
            cwd=peer.directory,
            env=peer.env,
            pass_fds=(self.sock.fileno(),),
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"django-helpdesk's gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                connection_ = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection_.request("GET", "/helpdesk/api/tickets/")
                if connection_.getresponse().status in (401, 403):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError("django-helpdesk did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.sock.close()


def bench_http(tenant: Tenant, servers: list[Servers], peer_server: PeerServer | None, peer, args) -> None:
    """Create and list on every target, one measurement at a time, alternating targets in each round."""
    targets = [switchboard_target(tenant, server) for server in servers]
    if len(targets) > 1:
        targets[1].name = "Switchboard before"
    if peer_server is not None:
        with tenant_context(tenant):
            emails = list(Contact.objects.order_by("id").values_list("email", flat=True)[:3000])
        connection.set_schema_to_public()
        targets.append(peer_target(peer, peer_server, emails))
    print("\nHTTP, one client process on the same machine; sequential = 1 keep-alive client, then 4 clients")
    for target in targets:
        rows, raw, wire = page_weight(target)
        print(f"{target.name:<18} list page {target.list_path[:40]}…: {rows} rows, {raw:,} B, {wire:,} B gzipped")
    for round_ in range(1, args.rounds + 1):
        print(f"\nround {round_}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for index, target in enumerate(targets if round_ % 2 else targets[::-1]):
            offset = 1_000_000 * round_ + 100_000 * index
            _http_line(target, "create, sequential", target.create_one, args.http_creates, 1, offset)
            clients, creates = args.http_clients, args.http_creates
            _http_line(target, f"create, {clients} clients", target.create_one, creates, clients, offset + 50_000)
            _http_line(target, "list page, sequential", target.list_one, args.list_requests, 1)
            _http_line(target, f"list page, {clients} clients", target.list_one, args.list_requests, clients)


def run_http(tenant: Tenant, args) -> None:
    log_dir = Path("/tmp") / f"bench-helpdesk-{os.getpid()}"
    log_dir.mkdir(exist_ok=True)
    peer = peer_server = None
    if args.peer:
        from bench.helpdesk_peer import peer_prepare

        started = time.perf_counter()
        agents = ["agent@bench.test", *(f"agent{index:02d}@bench.test" for index in range(2, AGENTS + 1))]
        peer = peer_prepare(args.peer.resolve(), connection.settings_dict, tenant.schema_name, agents)
        print(f"django-helpdesk ready in {args.peer} ({time.perf_counter() - started:.1f} s)")
    servers = [Servers(log_dir=log_dir, websockets=False)]
    try:
        if args.compare_with:
            servers.append(Servers(log_dir=log_dir, websockets=False, source=args.compare_with.resolve()))
        if peer is not None:
            peer_server = PeerServer(peer, log_dir)
        bench_http(tenant, servers, peer_server, peer, args)
    finally:
        for server in servers:
            server.stop()
        if peer_server is not None:
            peer_server.stop()


def _http_line(target: Target, label: str, call, count: int, clients: int, offset: int = 0) -> None:
    timings, per_second, errors, cpu, database = timed_calls(target, lambda index: call(offset + index), count, clients)
    if not timings:
        print(f"{target.name:<18} {label:<24} every request failed")
        return
    print(
        f"{target.name:<18} {label:<24} {per_second:6.1f}/s  p50 {statistics.median(timings):6.1f} ms  "
        f"p95 {percentile(timings, 0.95):6.1f} ms  server CPU {cpu:5.1f} ms/request  "
        f"database CPU {database:4.1f} ms/request  errors {errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--live", type=int, default=200)
    parser.add_argument("--only", default="list,create,live", help="comma-separated parts to run (or http)")
    parser.add_argument("--http-creates", type=int, default=300, help="http: creates per line")
    parser.add_argument("--list-requests", type=int, default=100, help="http: list pages per line")
    parser.add_argument("--http-clients", type=int, default=4, help="http: concurrent keep-alive clients")
    parser.add_argument("--rounds", type=int, default=2, help="http: interleaved rounds")
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="http: another checkout of Switchboard (e.g. `git archive <commit> | tar -x -C DIR`) served the same way "
        "on the same database, measured in the same rounds as 'Switchboard before'",
    )
    parser.add_argument("--peer", type=Path, help="http: django-helpdesk's directory (see bench/helpdesk_peer.py)")
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    parts = set(args.only.split(","))
    tenant = workspace(args.tickets)
    connection.set_schema_to_public()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if "list" in parts:
        bench_list(tenant, args.requests)
    if parts & {"create", "live"}:
        log_dir = Path("/tmp") / f"bench-helpdesk-{os.getpid()}"
        log_dir.mkdir(exist_ok=True)
        servers = Servers(log_dir=log_dir)
        try:
            if "create" in parts:
                bench_create(tenant, servers, args.creates, args.clients)
            if "live" in parts:
                bench_live(tenant, servers, args.live, log_dir)
        finally:
            servers.stop()
    if "http" in parts:
        run_http(tenant, args)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    if os.environ.get(CHILD):
        main()
    else:
        from core.testing.live import rerun_with_a_leased_redis

        sys.exit(rerun_with_a_leased_redis(__file__, CHILD))
