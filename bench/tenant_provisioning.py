"""Workspace provisioning speed: N throwaway workspaces through `tenant_create`, p50/p95/max and where the time goes.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/tenant_provisioning.py [--count 20] [--baseline] [--profile]
Each workspace is deleted again (schema dropped) at the end, even when the run is interrupted.
`--baseline` also provisions the same number the way django-tenants' `create_schema` does (clone, then a
fake `migrate_schemas`), alternating with ours so both see the same machine load.
`--profile` also prints the 25 most expensive functions (cumulative) of one extra provisioning.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

import django_tenants.models  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.clone import CloneSchema  # noqa: E402

import accounts.facade  # noqa: E402
import tenants.services  # noqa: E402
from tenants import schema_clone, schema_replay  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import platform_bootstrap, tenant_create  # noqa: E402

PREFIX = "bench-prov-"


class PhaseTimer:
    """Accumulates wall time per phase by wrapping the functions provisioning calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)

    def wrap(self, phase: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[phase].append(time.perf_counter() - started)

        return timed

    def patches(self) -> list:
        """The phases, in the order they happen; indented ones are part of the one above."""
        import django.core.management.commands.migrate as migrate_command

        phases = [
            (tenants.services, "make_password", "hash owner password"),
            (tenants.services, "tenant_reserve", "reserve (validate + insert)"),
            (schema_replay, "schema_replay", "replay the template's script"),
            (schema_replay, "script_dump", "make the script (pg_dump, once per migration state)"),
            (CloneSchema, "clone_schema", "clone template schema (fallback, and --baseline)"),
            (CloneSchema, "_create_clone_schema_function", "  of which (re)creating the clone SQL function"),
            (schema_clone, "migrations_missing", "compare migrations with the code"),
            (schema_clone, "call_command", "migrate_schemas for what the template lacks"),
            (django_tenants.models, "call_command", "fake migrate_schemas (django-tenants create_schema)"),
            (migrate_command, "emit_post_migrate_signal", "  of which post_migrate (content types, permissions)"),
            (accounts.facade, "user_create_owner", "create owner"),
        ]
        for _, _, phase in phases:
            self.seconds.setdefault(phase, [])  # report in this order
        return [mock.patch.object(owner, name, self.wrap(phase, getattr(owner, name))) for owner, name, phase in phases]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def provision(slug: str) -> float:
    started = time.perf_counter()
    tenant_create(name=f"Bench {slug}", slug=slug, admin_email=f"owner@{slug}.test", admin_password="Bench-pass-123")
    return time.perf_counter() - started


def delete_bench_workspaces(run_prefix: str) -> int:
    connection.set_schema_to_public()
    doomed = list(Tenant.objects.filter(slug__startswith=run_prefix))
    for tenant in doomed:
        tenant.delete(force_drop=True)  # drops the schema too
    return len(doomed)


def report(label: str, timings: list[float], timer: PhaseTimer) -> None:
    ms = [t * 1000 for t in timings]
    print(f"\n{label}: {len(ms)} workspaces through tenant_create")
    print(
        f"  p50 {percentile(ms, 0.5):7.0f} ms   p95 {percentile(ms, 0.95):7.0f} ms   max {max(ms):7.0f} ms   "
        f"mean {statistics.mean(ms):7.0f} ms"
    )
    total = sum(timings)
    print("  Where the time goes (mean per workspace, share of the total):")
    accounted = 0.0
    for phase, seconds in timer.seconds.items():
        if not seconds:
            continue
        if not phase.startswith(" "):
            accounted += sum(seconds)
        print(f"    {phase:<55} {1000 * sum(seconds) / len(timings):7.0f} ms  {100 * sum(seconds) / total:5.1f} %")
    rest = total - accounted
    other = "other (domain, status updates, steps)"
    print(f"    {other:<55} {1000 * rest / len(timings):7.0f} ms  {100 * rest / total:5.1f} %")


def django_tenants_schema_create(tenant: Tenant) -> None:
    """What tenants.services did before tenants/schema_clone.py: clone, then a fake migrate_schemas."""
    tenant.create_schema(check_if_exists=True, verbosity=0)


def timed_provision(slug: str, timer: PhaseTimer, baseline: bool) -> float:
    with ExitStack() as stack:
        for patch in timer.patches():
            stack.enter_context(patch)
        if baseline:
            stack.enter_context(
                mock.patch.object(tenants.services, "workspace_schema_create", django_tenants_schema_create)
            )
        return provision(slug)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also time django-tenants' create_schema (clone + fake migrate), interleaved under the same load",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one more provisioning")
    args = parser.parse_args()

    platform_bootstrap()
    behind = schema_clone.migrations_missing(settings.TENANT_BASE_SCHEMA)
    if behind:
        print(
            f"Note: the template lacks {len(behind)} migration(s), so every workspace also runs them; "
            "run `manage.py migrate_schemas` first for representative figures."
        )
    run_prefix = f"{PREFIX}{uuid.uuid4().hex[:6]}-"
    schemas = Tenant.objects.count()
    print(f"Template {settings.TENANT_BASE_SCHEMA}, {schemas} tenants in the database; workspaces {run_prefix}…")
    provision(f"{run_prefix}warm")  # first call pays imports, the clone function's creation, caches
    paths = {"Switchboard (tenants/schema_replay.py)": (PhaseTimer(), [], False)}
    if args.baseline:
        paths["django-tenants create_schema (clone + fake migrate)"] = (PhaseTimer(), [], True)
    try:
        for index in range(1, args.count + 1):
            line = []
            for number, (timer, timings, baseline) in enumerate(paths.values()):
                timings.append(timed_provision(f"{run_prefix}{index:03d}-{number}", timer, baseline))
                line.append(f"{timings[-1] * 1000:6.0f} ms")
            print(f"  {index:3d}  {'   '.join(line)}", flush=True)
        for label, (timer, timings, _) in paths.items():
            report(label, timings, timer)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(provision, f"{run_prefix}profiled")
            print("\nOne provisioning under cProfile (top 25 by cumulative time):")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    finally:
        print(f"\nDeleted {delete_bench_workspaces(run_prefix)} bench workspaces (schemas dropped).")


if __name__ == "__main__":
    main()
