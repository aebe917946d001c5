"""Sign-up → ready at 10, 500 and 1,000 workspaces: the replayed script against the clone it replaced.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/provisioning_scale.py [--at 10,500,1000] [--samples 20] [--baseline-samples 10]
    .venv/bin/python bench/provisioning_scale.py --cleanup-only
Before each level, bench workspaces bench-0001… (shared with bench/migrate_noop.py; owners with an unusable
password) are added, or the last ones deleted, until the database holds that many workspaces. Then each sample is
a sign-up as the worker runs it, timed from the reservation to the ready workspace: reserve the address, hash the
password, run `tenant_provision_task` (schema, owner, domain, verification email). `--baseline-samples` more go
through the old clone (TENANT_SCHEMA_PG_DUMP=off), interleaved so both see the same load. Sampled workspaces are
deleted after each level; the bench workspaces stay for the next level (`--cleanup-only` deletes them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402

from bench.migrate_noop import bench_slugs, create_one, delete_workspaces  # noqa: E402
from tenants import schema_replay  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import platform_bootstrap, tenant_reserve  # noqa: E402
from tenants.tasks import tenant_provision_task  # noqa: E402

SAMPLE_PREFIX = "bench-scale-"


def workspace_count() -> int:
    connection.set_schema_to_public()
    return Tenant.objects.workspaces().count()


def trim_to(count: int) -> None:
    """Deletes the last bench-NNNN workspaces until the database holds `count` workspaces (or no bench ones)."""
    extra = workspace_count() - count
    doomed = list(Tenant.objects.filter(slug__regex=r"^bench-\d{4}$").order_by("-slug")[: max(extra, 0)])
    if doomed:
        print(f"  deleting {len(doomed)} bench workspaces…", flush=True)
    for tenant in doomed:
        tenant.delete(force_drop=True)


def fill_to(count: int, jobs: int) -> None:
    """Adds bench-NNNN workspaces (replayed, fast) until the database holds `count` workspaces."""
    from concurrent.futures import ThreadPoolExecutor

    missing = count - workspace_count()
    if missing <= 0:
        trim_to(count)
        return
    existing = set(Tenant.objects.filter(slug__startswith="bench-").values_list("slug", flat=True))
    slugs = [slug for slug in bench_slugs(count + len(existing)) if slug not in existing][:missing]
    started = time.perf_counter()
    print(f"  adding {len(slugs)} bench workspaces with {jobs} threads…", flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for done, _ in enumerate(pool.map(create_one, slugs), start=1):
            if done % 100 == 0 or done == len(slugs):
                print(f"    {done}/{len(slugs)}  ({time.perf_counter() - started:.0f} s)", flush=True)


def signup_to_ready(slug: str) -> tuple[float, float]:
    """(sign-up → ready, of which the provisioning task) in seconds."""
    started = time.perf_counter()
    tenant = tenant_reserve(name=f"Bench {slug}", slug=slug)
    password_hash = make_password("Bench-pass-123-scale")
    task_started = time.perf_counter()
    tenant_provision_task.apply(args=(tenant.id, f"owner@{slug}.test", password_hash)).get()
    ended = time.perf_counter()
    connection.set_schema_to_public()
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE, (slug, tenant.status, tenant.provisioning_error)
    return ended - started, ended - task_started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(timings: list[float]) -> str:
    ms = [1000 * t for t in timings]
    return (
        f"p50 {percentile(ms, 0.5):6.0f} ms  p95 {percentile(ms, 0.95):6.0f} ms  max {max(ms):6.0f} ms  "
        f"mean {statistics.mean(ms):6.0f} ms  (n={len(ms)})"
    )


def script_made_in() -> float:
    """One-off after migrations changed the template: pg_dump of the template, at this catalog size."""
    started = time.perf_counter()
    schema_replay.script_dump(settings.TENANT_BASE_SCHEMA)
    return time.perf_counter() - started


def measure_level(level: int, samples: int, baseline_samples: int, run: str) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"replay": [], "replay task": [], "clone": [], "clone task": []}
    signup_to_ready(f"{run}warm")  # imports, the script fetched once
    with override_settings(TENANT_SCHEMA_PG_DUMP="off"):
        signup_to_ready(f"{run}warm-clone")  # the clone function created
    for index in range(max(samples, baseline_samples)):
        if index < samples:
            total, task = signup_to_ready(f"{run}{level}-r{index:03d}")
            timings["replay"].append(total)
            timings["replay task"].append(task)
        if index < baseline_samples:
            with override_settings(TENANT_SCHEMA_PG_DUMP="off"):
                total, task = signup_to_ready(f"{run}{level}-c{index:03d}")
            timings["clone"].append(total)
            timings["clone task"].append(task)
    return timings


def delete_samples(run: str) -> None:
    connection.set_schema_to_public()
    for tenant in Tenant.objects.filter(slug__startswith=run):
        tenant.delete(force_drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", default="10,500,1000", help="workspace counts to measure at")
    parser.add_argument("--samples", type=int, default=20, help="sign-ups per level through the replayed script")
    parser.add_argument("--baseline-samples", type=int, default=10, help="sign-ups per level through the clone")
    parser.add_argument("--jobs", type=int, default=2, help="threads adding bench workspaces")
    parser.add_argument("--cleanup-only", action="store_true", help="only delete the bench workspaces")
    args = parser.parse_args()
    if args.cleanup_only:
        print(f"Deleted {delete_workspaces()} bench workspaces (schemas dropped).")
        return
    platform_bootstrap()
    results = {}
    for level in (int(value) for value in args.at.split(",")):
        print(f"\nLevel {level} workspaces:", flush=True)
        fill_to(level, args.jobs)
        run = f"{SAMPLE_PREFIX}{uuid.uuid4().hex[:4]}-"
        try:
            count = workspace_count()
            dump = script_made_in()
            timings = measure_level(level, args.samples, args.baseline_samples, run)
        finally:
            delete_samples(run)
        results[count] = timings
        print(f"  {count} workspaces; making the script once (pg_dump) took {1000 * dump:.0f} ms", flush=True)
        for path, values in timings.items():
            if values:
                print(f"  {path:<12} {summary(values)}", flush=True)
        print(f"  load: {os.getloadavg()}", flush=True)
    print("\nSign-up → ready (reserve, hash, tenant_provision_task) and the task alone, p50 / p95 in ms:")
    for count, timings in results.items():
        cells = "   ".join(
            f"{path} {1000 * percentile(values, 0.5):5.0f} / {1000 * percentile(values, 0.95):5.0f}"
            for path, values in timings.items()
            if values
        )
        print(f"  {count:>5} workspaces   {cells}")
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
