"""Lead list speed with its rail of views at 12,000 leads: first paint, each built-in view and a filter fragment,
p50/p95 and queries per request.

Run by hand while the embedded servers run (`make run` or `make services`), after bench/leads.py has seeded its
workspace "bench-leads" (10,000 open leads + 2,000 closed on "Big", 100 on "Small"):
    .venv/bin/python bench/leads.py --requests 1 --moves 1     # once, to seed
    .venv/bin/python bench/lead_list.py [--requests 100] [--views 10]
`--views` saved views are added for the seller (kept for later runs), so the rail counts that many more filters.
Requests go through the whole Django stack in-process (middleware, tenant routing, session, view, template).
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

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from leads.models import Lead, LeadSavedView  # noqa: E402
from leads.views_lists import BUILTIN_VIEWS  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-leads"
settings.ALLOWED_HOSTS.append("testserver")


def p(timings: list[float], q: float) -> float:
    timings = sorted(timings)
    return timings[max(0, int(len(timings) * q) - 1)]


def measure(client: Client, label: str, url: str, requests: int, **headers: str) -> None:
    for _ in range(3):
        client.get(url, **headers)
    timings, cpu = [], []
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    print(
        f"{label:<40} p50 {statistics.median(timings):6.1f} ms   p95 {p(timings, 0.95):6.1f} ms   "
        f"CPU p50 {statistics.median(cpu):5.1f} ms   queries {len(captured.captured_queries)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--views", type=int, default=10)
    args = parser.parse_args()
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        sys.exit("No workspace bench-leads: run bench/leads.py first (it seeds the leads).")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tenant_context(tenant):
        seller = User.objects.get(email="sales@bench.test")
        for index in range(LeadSavedView.objects.filter(owner=seller).count(), args.views):
            filters = {"status": "open", "value_min": str(1000 * (index + 1)), "sort": "-value"}
            LeadSavedView.objects.create(owner=seller, name=f"Bench view {index}", filters=filters)
        print(f"workspace {SLUG}: {Lead.objects.count()} leads, rail of {len(BUILTIN_VIEWS)} + {args.views} views")
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace_domain(SLUG))
    with tenant_context(tenant):
        client.force_login(seller)
    connection.set_schema_to_public()

    measure(client, "list, first paint (all leads)", "/leads/list/", args.requests)
    for key, _, _, params in BUILTIN_VIEWS[:4]:
        query = "&".join(f"{name}={value}" for name, value in params.items())
        measure(
            client,
            f"view {key} (#lead-main)",
            f"/leads/list/?{query}",
            args.requests,
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="lead-main",
        )
    measure(
        client, "filter tag+value (#lead-table)", "/leads/list/?status=open&value_min=20000&q=deal",
        args.requests, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="lead-table",
    )  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
