"""Customer list page speed at 10k customers: p50/p95, SQL queries and `SET search_path` per request.

Each line is a request the list really gets: the page, sorts, searches (none, some, most customers match),
a filter, an HTMX request for the whole page and one for the table alone (what typing in the search box
sends), and a page deep in the list reached by its keyset cursor.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/customer_list.py [--customers 10000] [--requests 200]
The first run seeds a workspace "bench-customers" (kept for later runs; `--drop` removes it).
Requests go through the whole Django stack in-process (middleware, tenant routing, session, view, template).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from customers import selectors  # noqa: E402
from customers.demo import seed_customers  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-customers"
settings.ALLOWED_HOSTS.append("testserver")


def workspace(customers: int) -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Customers")
    with tenant_context(tenant):
        agent, _ = User.objects.get_or_create(email="agent@bench.test", defaults={"role": Role.AGENT, "name": "Bench"})
        started = time.perf_counter()
        created = seed_customers(owners=[agent], customers=customers, contacts=customers * 3, seed=7)
        if created:
            print(f"seeded {created} customers in {time.perf_counter() - started:.1f} s")
    return tenant


def deep_cursor(tenant: Tenant, *, sort: str, pages: int) -> str:
    """The cursor a reader holds after clicking "Next" `pages` times."""
    cursor = None
    with tenant_context(tenant):
        for _ in range(pages):
            cursor = selectors.customer_list(sort=sort, cursor=cursor).next_cursor or cursor
    return quote(cursor or "")


def timed_get(client: Client, url: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def count_queries(client: Client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    sql = [query["sql"] for query in queries.captured_queries]
    return len(sql), sum("search_path" in statement for statement in sql)


def report(label: str, timings: list[float], queries: tuple[int, int]) -> None:
    timings = sorted(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<38} p50 {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   "
        f"queries {queries[0]:2d}   SET search_path {queries[1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    tenant = workspace(args.customers)
    with tenant_context(tenant):
        agent = User.objects.get(email="agent@bench.test")
        total = agent.owned_customers.model.objects.count()
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace_domain(SLUG))
    with tenant_context(tenant):
        client.force_login(agent)
    connection.set_schema_to_public()
    print(f"workspace {SLUG}: {total} customers, {args.requests} requests per line")
    # An HTMX request aimed elsewhere (or nowhere) gets the whole page; the search box aims at the table.
    page = {"HTTP_HX_REQUEST": "true"}
    table = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "customer-table"}
    lines = {
        "list, default sort (name)": ("/customers/", {}),
        "list, newest first": ("/customers/?sort=-created", {}),
        "list, search 'tech' (no match)": ("/customers/?q=tech", {}),
        "list, search 'son' (many matches)": ("/customers/?q=son", {}),
        "list, filter tier=enterprise": ("/customers/?tier=enterprise", {}),
        "list, HTMX fragment": ("/customers/?q=a", page),
        "list, HTMX table only (q=son)": ("/customers/?q=son", table),
        "list, sort by tier": ("/customers/?sort=tier", {}),
        "list, page 100 by name": (f"/customers/?cursor={deep_cursor(tenant, sort='name', pages=99)}", {}),
        "list, page 100 by tier": (f"/customers/?sort=tier&cursor={deep_cursor(tenant, sort='tier', pages=99)}", {}),
    }
    for label, (url, headers) in lines.items():
        client.defaults.update(headers)
        timed_get(client, url, 5)  # warm-up
        report(label, timed_get(client, url, args.requests), count_queries(client, url))
        for key in headers:
            client.defaults.pop(key)


if __name__ == "__main__":
    main()
