"""Outbound webhook delivery latency at a steady rate: from a ticket change's commit to the signed POST arriving at
a local receiver, through the real path (helpdesk ticket_event → delivery row → outbox → Redis → Celery worker →
egress-guarded httpx → receiver).

A workspace "bench-webhooks" gets one subscription to `ticket.updated` pointing at a thread HTTP server on
127.0.0.1 (the egress guard is told to allow loopback, as in tests), and 20 tickets. Then `ticket_update` is called
at `--rate` events per minute (default 1,000) from `--senders` processes (as web servers' workers would; a ticket
always belongs to the same sender), each renaming a ticket: by default with a bare UPDATE and the helpdesk's
`ticket.updated` after commit (the webhook path alone, so the senders keep the rate on a small machine); with
`--source update` through the whole `ticket_update` service, whose other after-commit work (the live push) runs
before the webhook's and counts too. The clock starts when the change commits (and, second
figure, when the call started) and stops when the receiver has read the request. Real `celery worker`s
(`--workers`, default 2 like `make run`'s, solo pool, on a private Redis database) send everything.

Run by hand while the embedded servers run (`make services`):
    .venv/bin/python bench/inbox_webhooks.py [--events 500] [--rate 1000] [--source event|update] [--senders 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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
from django.db import connection, connections, transaction  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from bench.common import bench_workspace  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from core.testing.live import CeleryWorker, RedisDatabases, celery_reset_connections, database_url, server_env  # noqa: E402
from helpdesk.contracts import TICKET_UPDATED  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402
from helpdesk.services.tickets import ticket_update  # noqa: E402
from helpdesk.tests.factories import TicketFactory  # noqa: E402
from helpdesk.webhook_events import ticket_event_on_commit  # noqa: E402
from inbox.models import WebhookSubscription  # noqa: E402
from inbox.services import webhooks  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-webhooks"
TICKETS = 20
WARM_UP = 10
SOURCE = multiprocessing.Array("c", 8)  # "event" or "update", set before the senders fork
INTERVAL = multiprocessing.Value("d", 0.06)  # seconds between events, set before the senders fork


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
    tenant = bench_workspace(SLUG, "Bench Webhooks")
    return tenant


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def send(tenant: Tenant, ticket_ids: list[int], subjects: list[str], first: int, step: int, begin: float, out) -> None:
    """One sender process (a web server's worker, say): its share of the events, each at its time. Records when
    each call started and when its transaction committed (an after-commit hook registered before the change's own,
    so it runs first)."""
    connections.close_all()  # the parent's connection is not this process's to use
    times: dict[str, tuple[float, float]] = {}
    with tenant_context(tenant):
        tickets = {ticket.pk: ticket for ticket in Ticket.objects.filter(pk__in=ticket_ids)}
        for index in range(first, len(subjects), step):
            pause = begin + index * INTERVAL.value - time.time()
            if pause > 0:
                time.sleep(pause)
            subject, called = subjects[index], time.time()
            ticket = tickets[ticket_ids[index % TICKETS]]
            with transaction.atomic():
                transaction.on_commit(
                    lambda subject=subject, called=called: times.__setitem__(subject, (called, time.time()))
                )
                if SOURCE.value == b"update":
                    ticket_update(ticket=ticket, actor=None, data={"subject": subject})
                else:
                    Ticket.objects.filter(pk=ticket.pk).update(subject=subject)
                    ticket_event_on_commit(TICKET_UPDATED, ticket, changes={"subject": ["", subject]})
    connections.close_all()
    out.put(times)


def run(tenant: Tenant, events: int, rate: float, senders: int, receiver: Receiver) -> None:
    WebhookSubscription.objects.all().delete()
    webhooks.webhook_subscription_create(url=receiver.url, events=["ticket.updated"], description="bench")
    tickets = list(Ticket.objects.order_by("pk")[:TICKETS])
    tickets += [TicketFactory() for _ in range(TICKETS - len(tickets))]
    ticket_ids = [ticket.pk for ticket in tickets]
    INTERVAL.value = 60.0 / rate
    total = events + WARM_UP
    subjects = [f"bench {int(time.time())} #{index}" for index in range(total)]
    begin = time.time() + 1.0
    connections.close_all()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    processes = [
        context.Process(target=send, args=(tenant, ticket_ids, subjects, first, senders, begin, out))
        for first in range(senders)
    ]
    for process in processes:
        process.start()
    times: dict[str, tuple[float, float]] = {}
    for _ in processes:
        times.update(out.get())
    for process in processes:
        process.join()
    sent_in = max(committed for _, committed in times.values()) - begin
    deadline = time.monotonic() + 60
    while len(receiver.arrivals) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    measured = [subject for subject in subjects[WARM_UP:] if subject in times]
    arrived = [subject for subject in measured if subject in receiver.arrivals]
    after_commit = [(receiver.arrivals[key] - times[key][1]) * 1000 for key in arrived]
    after_call = [(receiver.arrivals[key] - times[key][0]) * 1000 for key in arrived]
    print(
        f"{total} events in {sent_in:.1f} s ({total / sent_in * 60:.0f}/min, target {rate:.0f}/min) from {senders} "
        f"sender processes; {len(measured) - len(arrived)} not received"
    )
    for label, values in (("commit → received", after_commit), ("call → received", after_call)):
        print(
            f"{label}: p50 {statistics.median(values):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, "
            f"p99 {percentile(values, 0.99):.0f} ms, max {max(values):.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="timed events (plus 10 warm-up)")
    parser.add_argument("--rate", type=float, default=1000, help="events per minute")
    parser.add_argument("--senders", type=int, default=4, help="processes making the ticket changes")
    parser.add_argument(
        "--source",
        choices=["event", "update"],
        default="event",
        help="event: a bare UPDATE plus the helpdesk's ticket.updated (the webhook path alone); update: the full "
        "ticket_update service (its live push, history and SLA too)",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (make run's worker has 2)")
    args = parser.parse_args()
    SOURCE.value = args.source.encode()
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
