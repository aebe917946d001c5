"""Reply → accepted by SMTP: from the commit of an agent's public reply to the mail server's 250 for its email
(p50/p95/max), through the real broker and a real Celery worker.

Run by hand while the embedded servers run (`make services` in another terminal), after `manage.py migrate_schemas`:
    .venv/bin/python bench/inbox_send.py [--replies 200] [--rate 5]

A workspace "bench-inbox" (kept between runs) gets a default mailbox whose SMTP server is an aiosmtpd server started
here on 127.0.0.1 (as the inbox tests do). Replies are committed `--rate` per second by `helpdesk` services (as the
reply form does), each on its own ticket; the clock stops when the SMTP server answers DATA. One worker consumes
the interactive queue, as `make run` starts it. The machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

import redis  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from core.testing.live import CeleryWorker, database_url, server_env  # noqa: E402
from customers.models import Contact, Customer  # noqa: E402
from helpdesk.models import HelpdeskSettings, Ticket  # noqa: E402
from helpdesk.services import tickets as ticket_services  # noqa: E402
from inbox.models import Mailbox, OutboundEmail  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-inbox"
MARKER = re.compile(rb"bench-([0-9a-f]{12})")


class Recorder:
    """The SMTP server's side: when each marked message was accepted."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}

    async def handle_DATA(self, server, session, envelope) -> str:
        found = MARKER.search(envelope.original_content)
        if found:
            self.accepted.setdefault(found.group(1).decode(), time.perf_counter())
        return "250 2.0.0 Ok: queued"


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Inbox")
    return tenant


def setup(port: int) -> tuple[User, Contact]:
    HelpdeskSettings.objects.update_or_create(pk=1, defaults={"analysis_enabled": False, "csat_enabled": False})
    Mailbox.objects.update_or_create(
        address="help@bench-inbox.test",
        defaults={
            "name": "Bench",
            "kind": Mailbox.Kind.IMAP,
            "display_name": "Bench Support",
            "is_default": True,
            "settings": {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"},
        },
    )
    agent = User.objects.filter(email="agent@bench-inbox.test").first() or User.objects.create(
        email="agent@bench-inbox.test", name="Bench Agent", role="agent"
    )
    customer, _ = Customer.objects.get_or_create(name="Bench Customer", defaults={"domain": "customer.test"})
    contact, _ = Contact.objects.get_or_create(
        email="ann@customer.test", defaults={"name": "Ann", "customer": customer}
    )
    return agent, contact


def run(replies: int, rate: float, agent: User, contact: Contact, recorder: Recorder) -> dict[str, float]:
    committed: dict[str, float] = {}
    tickets = [
        Ticket.objects.create(subject=f"Bench ticket {n}", requester=contact, customer=contact.customer,
                              channel=Ticket.Channel.EMAIL, original_description="The printer is on fire.")
        for n in range(replies)
    ]  # fmt: skip
    started = time.perf_counter()
    for n, ticket in enumerate(tickets):
        key = uuid.uuid4().hex[:12]
        with transaction.atomic():
            transaction.on_commit(lambda key=key: committed.__setitem__(key, time.perf_counter()))
            ticket_services.message_add(ticket=ticket, actor=agent, body=f"Try turning it off and on. bench-{key}")
        pause = started + (n + 1) / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    deadline = time.monotonic() + 60
    while len(recorder.accepted) < len(committed) and time.monotonic() < deadline:
        time.sleep(0.05)
    return committed


def report(committed: dict[str, float], accepted: dict[str, float]) -> None:
    latencies = sorted((accepted[key] - at) * 1000 for key, at in committed.items() if key in accepted)
    print(f"accepted {len(latencies)}/{len(committed)}")
    if len(latencies) >= 2:
        p95 = statistics.quantiles(latencies, n=20)[-1]
        print(f"reply commit → SMTP 250: p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, "
              f"max {latencies[-1]:.0f} ms (target p95 < 2000 ms)")  # fmt: skip


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="replies committed per second")
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

    recorder = Recorder()
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port)
        controller.start()
        tenant = workspace()
        with tenant_context(tenant):
            agent, contact = setup(port)
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("interactive")
        env = server_env(database=database_url(connection.settings_dict), redis_url=settings.REDIS_URL)
        worker = CeleryWorker.start(env=env, redis_url=settings.REDIS_URL, log_dir=Path(folder), queues=["interactive"])
        try:
            _warm_up(tenant, agent, contact, recorder)
            print(f"load average before: {load()}")
            with tenant_context(tenant):
                committed = run(args.replies, args.rate, agent, contact, recorder)
            print(f"load average after: {load()}")
        finally:
            worker.stop()
            controller.stop()
            with tenant_context(tenant):
                OutboundEmail.objects.all().delete()
                Ticket.objects.filter(subject__startswith="Bench ticket").delete()
    print(f"{args.replies} replies at {args.rate:g}/s, one worker on the interactive queue, aiosmtpd on loopback")
    report(committed, recorder.accepted)


def _warm_up(tenant: Tenant, agent: User, contact: Contact, recorder: Recorder) -> None:
    """One reply through the worker first: its start-up (imports, first connections) is not what is measured."""
    with tenant_context(tenant):
        committed = run(1, 1.0, agent, contact, recorder)
    if not set(committed) <= set(recorder.accepted):
        raise SystemExit("the warm-up reply was not accepted within 60 s: is the worker running? see its log")
    recorder.accepted.clear()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
