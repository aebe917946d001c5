"""Quote builder speed and numbering under concurrency.

1. Live total recompute: on a 50-line quote, the HTMX POST an inline edit sends (a line's quantity changes), through
   the whole Django stack in-process (middleware, tenant routing, session, view, service with its row lock, totals,
   the three fragments rendered): p50/p95 server time and queries per request. Target: p95 < 50 ms.
2. Numbering: 1,000 quotes created by 8 concurrent clients, each on its own database connection, through
   `quotes.services.quote_create` (the counter row locked by the creating transaction): elapsed time, quotes per
   second, and a check that the numbers are exactly the next 1,000 (no gap, no duplicate).

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/quotes.py [--edits 300] [--quotes 1000] [--clients 8]
Uses a workspace "bench-quotes" (kept; `--drop` removes it). Note the machine's load average (printed) with the
figures: other work on the machine moves them.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from customers.models import Customer  # noqa: E402
from quotes import catalog, services  # noqa: E402
from quotes.models import Product, Quote, QuoteSequence  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import platform_bootstrap, tenant_create, workspace_domain  # noqa: E402

SLUG = "bench-quotes"
settings.ALLOWED_HOSTS.append("testserver")
HTMX = {"HTTP_HX_REQUEST": "true"}
VERSION = re.compile(r'value="(\d+)" id="quote-version"')


def workspace() -> Tenant:
    platform_bootstrap()
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant = tenant_create(
            name="Bench Quotes", slug=SLUG, admin_email="owner@bench.test", admin_password=settings.DEMO_PASSWORD
        )
    return tenant


def fifty_line_quote(seller: User) -> Quote:
    customer, _ = Customer.objects.get_or_create(name="Bench Buyer")
    products = list(Product.objects.filter(sku__startswith="BENCH-"))
    if not products:
        products = [
            catalog.product_create(
                sku=f"BENCH-{index:02d}", name=f"Bench product {index}", tax_rate=Decimal(index % 3 * 10),
                cost=Decimal(index), prices={"USD": Decimal(10 + index) + Decimal("0.335")},
            )
            for index in range(25)
        ]  # fmt: skip
    quote = services.quote_create(actor=seller, customer_id=customer.pk, title="Fifty lines")
    for index in range(50):
        product = products[index % len(products)]
        product.parts_text = ""
        services.quote_line_add(quote=quote, actor=seller, product=product, data={"quantity": str(index + 1)})
    return Quote.objects.get(pk=quote.pk)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def bench_recompute(tenant: Tenant, edits: int) -> None:
    with tenant_context(tenant):
        seller, _ = User.objects.get_or_create(email="sales@bench.test", defaults={"role": Role.SALES, "name": "Bench"})
        quote = fifty_line_quote(seller)
        line_ids = list(quote.lines.order_by("position").values_list("id", flat=True))
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace_domain(SLUG), **HTMX)
    with tenant_context(tenant):
        client.force_login(seller)
    connection.set_schema_to_public()
    version = quote.version
    timings, queries = [], 0
    for run in range(edits + 10):
        line_id = line_ids[run % len(line_ids)]
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/quotes/lines/{line_id}/", {"version": version, "quantity": str(run % 7 + 1)})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200 and b'id="quote-totals"' in response.content, response.content[:300]
        version = int(VERSION.search(response.content.decode()).group(1))
        if run >= 10:  # warm-up
            timings.append(elapsed)
            queries = len(captured.captured_queries)
    print(
        f"live recompute, 50-line quote, {edits} edits:  p50 {statistics.median(timings):5.1f} ms   "
        f"p95 {percentile(timings, 0.95):5.1f} ms   max {max(timings):5.1f} ms   queries {queries}"
    )


def bench_numbering(tenant: Tenant, total: int, clients: int) -> None:
    with tenant_context(tenant):
        customer_id = Customer.objects.get(name="Bench Buyer").pk
        start = QuoteSequence.objects.get(name=services.SEQUENCE).last_value
    per_client = total // clients
    barrier = threading.Barrier(clients)

    def client(_: int) -> list[int]:
        try:
            with tenant_context(tenant):
                barrier.wait()
                return [services.quote_create(actor=None, customer_id=customer_id).number for _ in range(per_client)]
        finally:
            connections.close_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        numbers = [number for batch in pool.map(client, range(clients)) for number in batch]
    elapsed = time.perf_counter() - started
    expected = list(range(start + 1, start + per_client * clients + 1))
    duplicates = len(numbers) - len(set(numbers))
    gaps = len(set(expected) - set(numbers))
    print(
        f"numbering, {len(numbers)} quotes from {clients} clients: {elapsed:5.1f} s "
        f"({len(numbers) / elapsed:5.0f}/s)   "
        f"duplicates {duplicates}   gaps {gaps}   {'OK' if sorted(numbers) == expected else 'FAILED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--quotes", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} ({os.cpu_count()} CPUs)")
    tenant = workspace()
    bench_recompute(tenant, args.edits)
    bench_numbering(tenant, args.quotes, args.clients)
    print(f"load average after:  {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
