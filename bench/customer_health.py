"""The customer health job at 10,000 companies: total time, SQL statements, and where the time goes.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/customer_health.py [--customers 10000] [--tickets 150000] [--runs 3] [--batch 1000] [--drop]

The first run seeds a workspace "bench-health" (kept for later runs; `--drop` removes it): `--customers` companies
with three contacts each (customers.demo), then the demo helpdesk's six months of tickets over them (helpdesk.demo:
messages, AI sentiment, SLA breaches with their events, CSAT answers), so the drivers read realistic rows.
Each run is what the beat job runs in one workspace (`customers_health_refresh_task`: every company, batch by batch,
today's snapshot upserted and the current score written); the first run inserts the snapshots, the next ones update
them. Prints the wall time, statements, the helpdesk reads' share, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from customers import health  # noqa: E402
from customers.demo import seed_customers  # noqa: E402
from customers.models import Customer, HealthSnapshot  # noqa: E402
from helpdesk.demo import seed_helpdesk  # noqa: E402
from helpdesk.models import SatisfactionSurvey, Ticket, TicketEvent  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-health"


def workspace(customers: int, tickets: int) -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Health")
    with tenant_context(tenant):
        agents = [
            User.objects.get_or_create(email=f"agent{n}@bench.test", defaults={"role": Role.AGENT, "name": f"A{n}"})[0]
            for n in range(8)
        ]
        started = time.perf_counter()
        created = seed_customers(owners=agents, customers=customers, contacts=customers * 3, seed=12)
        if created:
            print(f"seeded {created} customers in {time.perf_counter() - started:.1f} s")
        if not Ticket.objects.exists():
            started = time.perf_counter()
            summary = seed_helpdesk(agents=agents, tickets=tickets, seed=12, articles=False)
            print(f"seeded {summary} in {time.perf_counter() - started:.1f} s")
    return tenant


def describe() -> str:
    breaches = TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACHED).count()
    answered = SatisfactionSurvey.objects.filter(rating__isnull=False).count()
    analysed = Ticket.objects.exclude(sentiment="").count()
    return (
        f"{Customer.objects.count()} companies, {Ticket.objects.count()} tickets ({analysed} with a sentiment), "
        f"{breaches} SLA breach events, {answered} CSAT answers"
    )


def timed_run(batch: int) -> tuple[float, int, float]:
    """One beat run: seconds, statements, seconds spent in the helpdesk's reads."""
    reads = []
    original = health.health_batch

    def timed_batch(ids, *, at):
        started = time.perf_counter()
        try:
            return original(ids, at=at)
        finally:
            reads.append(time.perf_counter() - started)

    statements = []

    def counted(execute, sql, params, many, context):
        statements.append(1)  # counted, not captured: keeping 1,000-row statements' SQL would cost time itself
        return execute(sql, params, many, context)

    health.health_batch = timed_batch
    try:
        with connection.execute_wrapper(counted):
            started = time.perf_counter()
            scored = health.customer_health_analyze(batch_size=batch)
            seconds = time.perf_counter() - started
    finally:
        health.health_batch = original
    assert scored == Customer.objects.count()
    return seconds, len(statements), sum(reads)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=health.BATCH_SIZE)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    tenant = workspace(args.customers, args.tickets)
    with tenant_context(tenant):
        HealthSnapshot.objects.all().delete()  # the first run inserts, the next ones update
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"workspace {SLUG}: {describe()}; batch {args.batch}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        totals = []
        for run in range(1, args.runs + 1):
            seconds, statements, reads = timed_run(args.batch)
            totals.append(seconds)
            kind = "insert" if run == 1 else "update"
            print(
                f"run {run} ({kind} snapshots): {seconds:6.2f} s   statements {statements}   "
                f"helpdesk reads {reads:5.2f} s ({100 * reads / seconds:.0f} %)   "
                f"{1000 * seconds / Customer.objects.count():.2f} ms per company"
            )
        print(f"median {statistics.median(totals):.2f} s, max {max(totals):.2f} s (target < 60 s)")
        bands = dict(Customer.objects.values_list("health_band").annotate(n=django.db.models.Count("id")))
        print(f"bands: {bands}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
