"""The figures of the quotes issue: builder recompute, PDF, numbering under concurrency, upsell precision.

1. Live total recompute: on a 50-line quote, the HTMX POST an inline edit sends (a line's quantity changes), through
   the whole Django stack in-process with the test client (middleware, tenant routing, session, view, service with
   its row lock, totals, the three fragments rendered): p50/p95 server time and queries per request. Target: p95 <
   50 ms. No network or WSGI server: the time is the server's alone.
2. PDF: that same 50-line quote, frozen as a revision is (`quote_snapshot` → `document_from_snapshot`), rendered by
   `quotes.pdf.quote_pdf_render`; each render with another number and first line (bench/quotes_pdf.py's `_varied`)
   so Typst's memoization cannot hand back the previous PDF. p50/p95, first render of the process. Target: p95 < 1 s.
3. Numbering: 1,000 quotes created by 8 concurrent clients (threads), each on its own database connection, through
   `quotes.services.quote_create` (the counter row locked by the creating transaction): elapsed time, quotes per
   second, and a check that the numbers are exactly the next 1,000 (no gap, no duplicate).
4. Upsell precision@3 (`quotes.recommend.holdout_precision`: rules mined on the oldest 80 % of accepted quotes, each
   newer one cut in two, a hit when a suggestion is in the hidden half) against the most-popular baseline, on:
   the accepted quotes of the demo history (workspace "bench-quotes-demo", seeded once with the demo's seeders and
   "acme"'s seed; or `--history acme` in a database `make run` seeded); and on
   histories drawn from the demo's own basket generator (`quotes.demo`: the archetypes and add-on probabilities its
   docstring lists, lead values as leads' demo draws them), from 50 accepted quotes (the demo's size) to
   3,000, averaged over seeds.

Run by hand while the embedded servers run (`scripts/devstack.py services`, or `make run`):
    .venv/bin/python bench/quotes.py [--only recompute,pdf,numbering,upsell] [--edits 300] [--renders 100]
        [--quotes 1000] [--clients 8] [--history acme] [--seeds 20]
Uses workspaces "bench-quotes" and "bench-quotes-demo" (kept; `--drop` removes them). Note the machine's load
average (printed) with the figures: other work on the machine moves them.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import random
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
from bench.common import bench_workspace  # noqa: E402
from bench.quotes_pdf import _varied  # noqa: E402
from customers.models import Customer  # noqa: E402
from quotes import catalog, services  # noqa: E402
from quotes.demo import _basket as demo_basket  # noqa: E402
from quotes.documents import Party, document_from_snapshot  # noqa: E402
from quotes.models import Product, Quote, QuoteLine, QuoteSequence, QuoteStatus  # noqa: E402
from quotes.pdf import quote_pdf_render  # noqa: E402
from quotes.recommend import holdout_precision  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-quotes"
settings.ALLOWED_HOSTS.append("testserver")
HTMX = {"HTTP_HX_REQUEST": "true"}
VERSION = re.compile(r'value="(\d+)" id="quote-version"')


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


def bench_recompute(tenant: Tenant, edits: int) -> Quote:
    with tenant_context(tenant):
        seller, _ = User.objects.get_or_create(email="sales@bench.test", defaults={"role": Role.SALES, "name": "Bench"})
        quote = fifty_line_quote(seller)
        line_ids = list(quote.lines.order_by("position").values_list("id", flat=True))
    if not edits:
        return quote
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace_domain(SLUG), **HTMX)
    with tenant_context(tenant):
        client.force_login(seller)
    connection.set_schema_to_public()
    version = quote.version
    timings, cpu, queries = [], [], 0
    for run in range(edits + 10):
        line_id = line_ids[run % len(line_ids)]
        started, started_cpu = time.perf_counter(), time.thread_time()
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/quotes/lines/{line_id}/", {"version": version, "quantity": str(run % 7 + 1)})
        elapsed, elapsed_cpu = (time.perf_counter() - started) * 1000, (time.thread_time() - started_cpu) * 1000
        assert response.status_code == 200 and b'id="quote-totals"' in response.content, response.content[:300]
        version = int(VERSION.search(response.content.decode()).group(1))
        if run >= 10:  # warm-up
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
            queries = len(captured.captured_queries)
    print(
        f"live recompute, 50-line quote, {edits} edits:  p50 {statistics.median(timings):5.1f} ms   "
        f"p95 {percentile(timings, 0.95):5.1f} ms   max {max(timings):5.1f} ms   "
        f"(Python CPU p50 {statistics.median(cpu):4.1f}, p95 {percentile(cpu, 0.95):4.1f} ms)   queries {queries}   "
        "(target p95 < 50 ms)"
    )
    return quote


def bench_pdf(tenant: Tenant, quote: Quote, renders: int) -> None:
    with tenant_context(tenant):
        lines = list(QuoteLine.objects.filter(quote=quote).order_by("position", "id"))
        snapshot = services.quote_snapshot(quote, lines)
        customer = Party(name=Customer.objects.get(pk=quote.customer_id).name, address_lines=("1 Bench Street",))
    base = document_from_snapshot(
        snapshot, workspace_name="Bench Quotes", revision=1, issue_date=datetime.date.today(), customer=customer
    )
    started = time.perf_counter()
    pdf = quote_pdf_render(_varied(base, 0))
    first = (time.perf_counter() - started) * 1000
    timings = []
    for index in range(1, renders + 1):
        started = time.perf_counter()
        quote_pdf_render(_varied(base, index))
        timings.append((time.perf_counter() - started) * 1000)
    pages = pdf.count(b"/Type/Page") - pdf.count(b"/Type/Pages")
    print(
        f"PDF, {len(lines)}-line quote ({pages} pages, {len(pdf):,} bytes), {renders} renders: "
        f"p50 {statistics.median(timings):4.0f} ms   p95 {percentile(timings, 0.95):4.0f} ms   "
        f"max {max(timings):4.0f} ms   first in process {first:4.0f} ms   (target p95 < 1000 ms)"
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


DEMO_SLUG = "bench-quotes-demo"


def demo_workspace() -> Tenant:
    """A workspace with the demo's people, companies, leads and quotes as `seed_demo` makes them for "acme" (same
    seeders, same seed; no helpdesk, inbox or web-form leads, which quotes do not read): made once, then kept."""
    import zlib

    from accounts.demo import seed_team
    from customers.demo import seed_customers
    from leads.demo import seed_lead_extras, seed_leads
    from quotes.demo import seed_quotes

    tenant = bench_workspace(DEMO_SLUG, "Bench Quotes Demo")
    seed = zlib.crc32(b"acme")
    with tenant_context(tenant):
        team = seed_team(email_domain=f"{DEMO_SLUG}.test")
        owners = [user for user in team.values() if user.role in ("agent", "sales")]
        sellers = [user for user in team.values() if user.role in ("sales", "admin")]
        seed_customers(owners=owners, customers=200, contacts=600, seed=seed)
        seed_leads(owners=sellers, leads=300, seed=seed)
        seed_lead_extras(owners=sellers, seed=seed)
        seed_quotes(owners=sellers, seed=seed)
    return tenant


def workspace_baskets(slug: str) -> list[list[str]] | None:
    """The product SKUs of each accepted quote of workspace `slug`, oldest answer first; None without it."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return None
    with tenant_context(tenant):
        rows = (
            QuoteLine.objects.filter(quote__status=QuoteStatus.ACCEPTED, product__isnull=False)
            .order_by("quote__closed_at", "quote_id", "position")
            .values_list("quote_id", "product__sku")
        )
        baskets: dict[int, list[str]] = {}
        for quote_id, sku in rows:
            baskets.setdefault(quote_id, []).append(sku)
    return list(baskets.values())


def demo_history(size: int, seed: int) -> list[list[str]]:
    """`size` accepted quotes as the demo draws them: a lead value like leads' demo (a tier's typical value times
    a log-normal spread), then the demo's archetype and add-ons for that value."""
    rng = random.Random(seed)
    baskets = []
    for _ in range(size):
        typical = rng.choices([2_000, 6_000, 20_000, 80_000], weights=[1, 4, 3, 1])[0]
        value = round(typical * math.exp(rng.gauss(0, 0.6)) / 100) * 100 or 100
        baskets.append([sku for sku, _ in demo_basket(rng, value)])
    return baskets


def bench_upsell(history: str, seeds: int) -> None:
    print("upsell precision@3 (rules mined on the oldest 80 %, scored on the newest 20 %; baseline: most popular)")
    if history == DEMO_SLUG:
        demo_workspace()
    baskets = workspace_baskets(history)
    if baskets:
        # One history, so the spread comes from where each held-out quote is cut in two.
        scores = [holdout_precision(baskets, k=3, seed=seed) for seed in range(seeds)]
        print(
            f"  demo history of workspace {history!r}: {len(baskets)} accepted quotes, {scores[0].baskets} held out, "
            f"{seeds} cuts:  rules {statistics.mean(s.rules for s in scores):.3f}   "
            f"popular {statistics.mean(s.popular for s in scores):.3f}"
        )
    else:
        print(f"  workspace {history!r}: none in this database (or no accepted quote)")
    for size in (50, 300, 1000, 3000):
        scores = [holdout_precision(demo_history(size, seed), k=3, seed=seed) for seed in range(seeds)]
        rules = [score.rules for score in scores]
        popular = [score.popular for score in scores]
        print(
            f"  demo generator, {size:>4} accepted quotes ({scores[0].baskets:>3} held out), {seeds} seeds:  "
            f"rules {statistics.mean(rules):.3f} ± {statistics.stdev(rules):.3f}   "
            f"popular {statistics.mean(popular):.3f} ± {statistics.stdev(popular):.3f}"
        )


PARTS = ("recompute", "pdf", "numbering", "upsell")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--quotes", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--history", default=DEMO_SLUG, help=f"the workspace whose accepted quotes to score ({DEMO_SLUG}: seeded here)"
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug__in=[SLUG, DEMO_SLUG]).delete()
        return
    parts = set(args.only.split(","))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    tenant = bench_workspace(SLUG, "Bench Quotes")
    if parts & {"recompute", "pdf"}:
        quote = bench_recompute(tenant, args.edits if "recompute" in parts else 0)
        if "pdf" in parts:
            bench_pdf(tenant, quote, args.renders)
    if "numbering" in parts:
        bench_numbering(tenant, args.quotes, args.clients)
    if "upsell" in parts:
        bench_upsell(args.history, args.seeds)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
