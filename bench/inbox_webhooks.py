"""Outbound webhook delivery latency at a steady rate: from a ticket change's commit to the signed POST arriving at
a local receiver, through the real path (helpdesk ticket_event → delivery row → outbox → Redis → Celery worker →
egress-guarded httpx → receiver).

A workspace "bench-webhooks" gets one subscription to `ticket.updated` pointing at a thread HTTP server on
127.0.0.1 (the egress guard is told to allow loopback, as in tests), and 20 tickets. Then `ticket_update` is called
at `--rate` events per minute (default 1,000) from `--senders` threads (each its own connection, as web requests
would be; a ticket always belongs to the same sender), each renaming a ticket. The clock starts just before the call
(so the transaction itself is counted) and stops when the receiver has read the request. Real `celery worker`s
(`--workers`, default 2 like `make run`'s, solo pool, on a private Redis database) send everything.

Run by hand while the embedded servers run (`make services`):
    .venv/bin/python bench/inbox_webhooks.py [--events 500] [--rate 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# The receiver listens on 127.0.0.1 over http: allowed here as in the tests (the worker gets the same from server_env).
os.environ["EGRESS_ALLOW_LOOPBACK"], os.environ["EGRESS_REQUIRE_HTTPS"] = "1", "0"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from config.celery import app as celery_app  # noqa: E402
from core.testing.live import CeleryWorker, RedisDatabases, celery_reset_connections, database_url, server_env  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402
from helpdesk.services.tickets import ticket_update  # noqa: E402
from helpdesk.tests.factories import TicketFactory  # noqa: E402
from inbox.models import WebhookSubscription  # noqa: E402
from inbox.services import webhooks  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import platform_bootstrap, tenant_create  # noqa: E402

SLUG = "bench-webhooks"
TICKETS = 20
WARM_UP = 10


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # subject → time.time() when read
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as most receivers

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.time()
                subject = json.loads(body)["data"]["ticket"]["subject"]
                with receiver.lock:
                    receiver.arrivals[subject] = arrived
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def workspace() -> Tenant:
    platform_bootstrap()
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant = tenant_create(
            name="Bench Webhooks", slug=SLUG, admin_email=f"owner@{SLUG}.test", admin_password=settings.DEMO_PASSWORD
        )
    return tenant


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(tenant: Tenant, events: int, rate: float, senders: int, receiver: Receiver) -> None:
    WebhookSubscription.objects.all().delete()
    webhooks.webhook_subscription_create(url=receiver.url, events=["ticket.updated"], description="bench")
    tickets = list(Ticket.objects.order_by("pk")[:TICKETS])
    tickets += [TicketFactory() for _ in range(TICKETS - len(tickets))]
    interval = 60.0 / rate
    total = events + WARM_UP
    subjects = [f"bench {int(time.time())} #{index}" for index in range(total)]
    started_at: dict[str, float] = {}
    begin = time.monotonic() + 0.5

    def send(first: int) -> None:
        # Each sender its own connection, as separate web requests would be; together they keep the rate.
        with tenant_context(tenant):
            for index in range(first, total, senders):
                pause = begin + index * interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                started_at[subjects[index]] = time.time()
                ticket = tickets[index % TICKETS]
                ticket_update(ticket=ticket, actor=None, data={"subject": subjects[index]})
        connection.close()

    threads = [threading.Thread(target=send, args=(first,)) for first in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent_in = time.monotonic() - begin
    deadline = time.monotonic() + 60
    while len(receiver.arrivals) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    measured = subjects[WARM_UP:]
    latencies = [(receiver.arrivals[key] - started_at[key]) * 1000 for key in measured if key in receiver.arrivals]
    missing = len(measured) - len(latencies)
    print(
        f"{total} events in {sent_in:.1f} s ({total / sent_in * 60:.0f}/min, target {rate:.0f}/min), {missing} missing"
    )
    print(
        f"commit → received: p50 {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="timed events (plus 10 warm-up)")
    parser.add_argument("--rate", type=float, default=1000, help="events per minute")
    parser.add_argument("--senders", type=int, default=4, help="threads making the ticket changes")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (make run's worker has 2)")
    args = parser.parse_args()
    tenant = workspace()
    databases = RedisDatabases(settings.REDIS_URL)
    redis_url = databases.lease()
    celery_app.conf.broker_url = celery_app.conf.result_backend = redis_url
    celery_reset_connections(celery_app)
    receiver = Receiver()
    print(f"load average before {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f} / {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as log_dir:
        env = server_env(database=database_url(connection.settings_dict), redis_url=redis_url)
        workers = [CeleryWorker.start(env=env, redis_url=redis_url, log_dir=Path(log_dir)) for _ in range(args.workers)]
        try:
            with tenant_context(tenant):
                run(tenant, args.events, args.rate, args.senders, receiver)
                WebhookSubscription.objects.all().delete()
        finally:
            for worker in workers:
                worker.stop()
            databases.release_all()
    print(f"load average after {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f} / {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
