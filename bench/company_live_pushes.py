"""What the company page's live pushes (customers.live) would add to a health run if every company whose health
changed got one push to its page's topic, whether or not anyone has the page open. (The figure is why only a
recompute of named companies, after a ticket event, pushes; the beat job's sweep of every company does not.)

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/company_live_pushes.py [--companies 10000] [--runs 3] [--drop]

Each run opens a transaction, announces a health change for `--companies` company ids (the worst case: every score
of a 10,000-company workspace changed in one beat run) and commits, so the pushes go through the Redis channel layer
as a worker's would. Prints the total per run and per push, and the load average before and after: compare with the
health job's own time (bench/customer_health.py).
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

from django.db import transaction  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from bench.common import bench_workspace  # noqa: E402
from customers import live  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-live"


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Live")
    return tenant


def timed_run(companies: int) -> float:
    started = time.perf_counter()
    with transaction.atomic():
        live.company_health_changed(list(range(1, companies + 1)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    with tenant_context(workspace()):
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        totals = []
        for run in range(1, args.runs + 1):
            seconds = timed_run(args.companies)
            totals.append(seconds)
            each = 1000 * seconds / args.companies
            print(f"run {run}: {args.companies} pushes in {seconds:.2f} s, {each:.3f} ms each")
        print(f"median {statistics.median(totals):.2f} s")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
