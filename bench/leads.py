"""Lead board speed at 10,000 open leads: kanban first paint and drag-move p50/p95, and board queries at 100 vs 10,000.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/leads.py [--leads 10000] [--requests 200] [--moves 300]
The first run seeds a workspace "bench-leads" (kept for later runs; `--drop` removes it): 2,000 demo customers,
a pipeline "Big" with `--leads` open leads spread over its four open stages (plus 2,000 won/lost), and a pipeline
"Small" with 100. Requests go through the whole Django stack in-process (middleware, tenant routing, session, view,
template); a move's time includes rendering and sending the live push to the pipeline's board topic after commit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

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
from customers.demo import seed_customers  # noqa: E402
from leads import services  # noqa: E402
from leads.models import Lead, LeadStageChange, Pipeline, StageKind  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-leads"
settings.ALLOWED_HOSTS.append("testserver")


def _fill(pipeline: Pipeline, *, open_leads: int, closed: int, owners: list, rng: random.Random) -> None:
    stages = list(pipeline.stages.order_by("order"))
    open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
    closed_stages = [stage for stage in stages if stage.kind != StageKind.OPEN]
    rows = []
    for index in range(open_leads + closed):
        stage = rng.choice(open_stages if index < open_leads else closed_stages)
        rows.append(
            Lead(
                title=f"Bench deal {index:05d}",
                stage=stage,
                owner=rng.choice(owners),
                value=Decimal(rng.randint(1, 500) * 100),
                probability=stage.probability,
                position=index * services.POSITION_STEP,
                lost_reason="Price" if stage.kind == StageKind.LOST else "",
            )
        )
    made = Lead.objects.bulk_create(rows, batch_size=5000)
    LeadStageChange.objects.bulk_create(
        [LeadStageChange(lead=lead, to_stage=lead.stage) for lead in made], batch_size=5000
    )


def workspace(leads: int) -> tuple[Tenant, int, int]:
    tenant = bench_workspace(SLUG, "Bench Leads")
    with tenant_context(tenant):
        seller, _ = User.objects.get_or_create(email="sales@bench.test", defaults={"role": Role.SALES, "name": "Sam"})
        seed_customers(owners=[seller], customers=2000, contacts=4000, seed=3)
        big = Pipeline.objects.filter(name="Big").first()
        if big is None:
            started = time.perf_counter()
            rng = random.Random(5)
            big = services.pipeline_create(name="Big", is_default=True)
            _fill(big, open_leads=leads, closed=2000, owners=[seller], rng=rng)
            small = services.pipeline_create(name="Small", is_default=False)
            _fill(small, open_leads=100, closed=0, owners=[seller], rng=rng)
            with connection.cursor() as cursor:
                # As autovacuum would, soon after: statistics, and the visibility map index-only scans need.
                cursor.execute("VACUUM ANALYZE leads_lead, leads_leadstagechange")
            print(f"seeded {leads} + 2000 closed + 100 leads in {time.perf_counter() - started:.1f} s")
        small = Pipeline.objects.get(name="Small")
        return tenant, big.pk, small.pk


def p(timings: list[float], q: float) -> float:
    timings = sorted(timings)
    return timings[max(0, int(len(timings) * q) - 1)]


def report(label: str, timings: list[float], cpu: list[float], queries: int | None = None) -> None:
    """Wall time, and the Django process's own CPU time (what a shared machine's load cannot inflate as much)."""
    extra = f"   queries {queries}" if queries is not None else ""
    print(
        f"{label:<44} p50 {statistics.median(timings):6.1f} ms   p95 {p(timings, 0.95):6.1f} ms   "
        f"CPU p50 {statistics.median(cpu):5.1f} ms{extra}"
    )


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # The session, the user and search_path come with every request: count what the board itself asks.
    return len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tenant, big, small = workspace(args.leads)
    with tenant_context(tenant):
        seller = User.objects.get(email="sales@bench.test")
        open_count = Lead.objects.filter(stage__pipeline_id=big, stage__kind=StageKind.OPEN).count()
        stage_ids = list(Pipeline.objects.get(pk=big).stages.filter(kind=StageKind.OPEN).values_list("pk", flat=True))
        lead_ids = list(Lead.objects.filter(stage_id__in=stage_ids).values_list("pk", flat=True))
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace_domain(SLUG))
    with tenant_context(tenant):
        client.force_login(seller)
    connection.set_schema_to_public()
    print(f"workspace {SLUG}: {open_count} open leads on the big board")

    for label, pipeline_id in (("board, 10,000 open leads", big), ("board, 100 leads", small)):
        url = f"/leads/pipelines/{pipeline_id}/"
        for _ in range(5):
            client.get(url)
        timings, cpu = [], []
        for _ in range(args.requests):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            assert response.status_code == 200
        report(label, timings, cpu, queries_for(client, url))

    rng = random.Random(9)
    with tenant_context(tenant):
        stage_of = dict(Lead.objects.filter(pk__in=lead_ids).values_list("pk", "stage_id"))
    connection.set_schema_to_public()
    # A drag across columns writes a history row and re-reads both headers; a reorder within a column does neither.
    timings: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    queries: dict[bool, int] = {}
    headers = {"HTTP_HX_REQUEST": "true"}
    for index in range(args.moves + 10):
        lead_id = rng.choice(lead_ids)
        data = {"stage": rng.choice(stage_ids), "position": rng.randint(0, 30)}
        across = data["stage"] != stage_of[lead_id]
        counting = across not in queries  # the first of each kind, untimed: capturing costs time
        started, cpu_started = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) if counting else contextlib.nullcontext() as captured:
            response = client.post(f"/leads/{lead_id}/move/", data, **headers)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_elapsed = (time.process_time() - cpu_started) * 1000
        assert response.status_code == 200 and response.get("HX-Trigger") == "modal:close", response.content[:300]
        stage_of[lead_id] = data["stage"]
        if counting:
            queries[across] = len(captured.captured_queries)
        elif index >= 10:  # warm-up
            timings[across].append(elapsed)
            cpu[across].append(cpu_elapsed)
    report("drag-move, any (live push included)", timings[True] + timings[False], cpu[True] + cpu[False])
    report("drag-move to another column", timings[True], cpu[True], queries.get(True))
    report("drag-move within its column", timings[False], cpu[False], queries.get(False))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
