"""Sign-up → ready through a running stack's broker and workers, e.g. right after a fresh `make run`.

Run by hand while `make run` runs (it finds the servers through var/services.env, as manage.py does):
    .venv/bin/python bench/signup_ready.py [--count 5] [--cleanup]
Each sign-up goes the way the sign-up page sends it (`tenants.services.tenant_signup`: reserve, hash, queue the
provisioning task); the time runs until the workspace is active, so it includes the wait in the queue behind
whatever else the workers have to do (on a fresh `make run`: the demo's start-up indexing). One at a time.
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

from django.db import connection  # noqa: E402

from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_signup  # noqa: E402

PREFIX = "bench-signup-"
TIMEOUT_SECONDS = 300


def signup_ready(slug: str) -> float:
    started = time.perf_counter()
    tenant_signup(name=f"Bench {slug}", slug=slug, admin_email=f"owner@{slug}.test", admin_password="Bench-pass-123-x")
    while time.perf_counter() - started < TIMEOUT_SECONDS:
        status = Tenant.objects.filter(slug=slug).values_list("status", flat=True).first()
        if status != Tenant.Status.PROVISIONING:
            if status != Tenant.Status.ACTIVE:
                raise RuntimeError(f"{slug} ended {status}")
            return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"{slug} not ready after {TIMEOUT_SECONDS} s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--cleanup", action="store_true", help="delete the workspaces made here afterwards")
    args = parser.parse_args()
    connection.set_schema_to_public()
    run = f"{PREFIX}{uuid.uuid4().hex[:4]}-"
    print(f"{Tenant.objects.workspaces().count()} workspaces; signing up {args.count}, one at a time…", flush=True)
    timings = []
    for index in range(args.count):
        timings.append(signup_ready(f"{run}{index:02d}"))
        print(f"  {index + 1:2d}  {1000 * timings[-1]:7.0f} ms", flush=True)
    ms = [1000 * seconds for seconds in timings]
    print(
        f"sign-up → ready: p50 {percentile(ms, 0.5):.0f} ms  p95 {percentile(ms, 0.95):.0f} ms  "
        f"max {max(ms):.0f} ms  mean {statistics.mean(ms):.0f} ms  (load {os.getloadavg()})"
    )
    if args.cleanup:
        for tenant in Tenant.objects.filter(slug__startswith=run):
            tenant.delete(force_drop=True)


if __name__ == "__main__":
    main()
