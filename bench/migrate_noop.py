"""How long a no-op `manage.py migrate_schemas` takes with 200 workspaces, per executor.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/migrate_noop.py [--workspaces 200] [--jobs 2] [--cleanup]
    .venv/bin/python bench/migrate_noop.py --cleanup-only
First creates the missing workspaces bench-0001…bench-NNNN (made from the template through the normal
provisioning service; owners get an unusable password, so no password hashing), after one untimed
`migrate_schemas` has brought every schema up to date, times the no-op runs, each in a fresh process as an operator
would run it. `--cleanup` deletes the bench workspaces (schemas dropped) at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402

from tenants.models import Tenant  # noqa: E402
from tenants.services import WorkspaceOwner, platform_bootstrap, tenant_provision, tenant_reserve  # noqa: E402

BENCH_SLUG = re.compile(r"^bench-\d{4}$")


def bench_slugs(count: int) -> list[str]:
    return [f"bench-{index:04d}" for index in range(1, count + 1)]


def create_one(slug: str) -> None:
    try:
        tenant = tenant_reserve(name=f"Bench {slug[-4:]}", slug=slug)
        # "!" is an unusable password hash: these workspaces are never signed in to.
        tenant_provision(tenant=tenant, owner=WorkspaceOwner(email=f"owner@{slug}.test", password_hash="!"))
    finally:
        connections.close_all()  # this thread's connection


def ensure_workspaces(count: int, jobs: int) -> None:
    existing = set(Tenant.objects.filter(slug__startswith="bench-").values_list("slug", flat=True))
    missing = [slug for slug in bench_slugs(count) if slug not in existing]
    if not missing:
        print(f"All {count} bench workspaces exist.")
        return
    print(f"Creating {len(missing)} bench workspaces with {jobs} threads…", flush=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for done, _ in enumerate(pool.map(create_one, missing), start=1):
            if done % 25 == 0 or done == len(missing):
                print(f"  {done}/{len(missing)}  ({time.perf_counter() - started:.0f} s)", flush=True)


def delete_workspaces() -> int:
    connection.set_schema_to_public()
    doomed = [tenant for tenant in Tenant.objects.filter(slug__startswith="bench-") if BENCH_SLUG.match(tenant.slug)]
    for tenant in doomed:
        tenant.delete(force_drop=True)  # drops the schema too
    return len(doomed)


# Each run is a fresh process, as an operator runs it; the executor function is chosen explicitly so the
# figures compare the same things whatever config/settings says.
RUNNER = (
    "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.base'); import django; "
    "django.setup(); from django.conf import settings; settings.GET_EXECUTOR_FUNCTION = sys.argv[1]; "
    "from django.core.management import call_command; call_command('migrate_schemas', *sys.argv[2:])"
)
DJANGO_TENANTS = "django_tenants.migration_executors.get_executor"
SKIP_CURRENT = "tenants.migration_executor.get_executor"


def timed_migrate(executor_function: str, *arguments: str) -> tuple[float, bool]:
    command = [sys.executable, "-c", RUNNER, executor_function, *arguments, "--verbosity", "0"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        print(f"  `migrate_schemas {' '.join(arguments)}` failed:\n{result.stderr[-2000:]}")
    return seconds, result.returncode == 0


RUNS = {
    "start-up + public schema only (--shared)": (DJANGO_TENANTS, "--shared"),
    "django-tenants, standard executor": (DJANGO_TENANTS,),
    "django-tenants, --executor=multiprocessing": (DJANGO_TENANTS, "--executor=multiprocessing"),
    "skip current schemas, standard executor": (SKIP_CURRENT,),
    "skip current schemas, --executor=multiprocessing": (SKIP_CURRENT, "--executor=multiprocessing"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2, help="threads creating missing workspaces")
    parser.add_argument("--cleanup", action="store_true", help="delete the bench workspaces afterwards")
    parser.add_argument("--cleanup-only", action="store_true", help="only delete the bench workspaces")
    args = parser.parse_args()

    if args.cleanup_only:
        print(f"Deleted {delete_workspaces()} bench workspaces (schemas dropped).")
        return
    platform_bootstrap()
    # First, so the template is current and new workspaces need no migrations of their own.
    print("Bringing every existing schema up to date once (not timed)…", flush=True)
    timed_migrate(DJANGO_TENANTS)
    ensure_workspaces(args.workspaces, args.jobs)
    schemas = Tenant.objects.exclude(schema_name="public").count()

    print(f"\nNo-op `manage.py migrate_schemas` with {schemas} tenant schemas (wall time, fresh process each):")
    figures = {}
    for label, (executor_function, *arguments) in RUNS.items():
        seconds, ok = timed_migrate(executor_function, *arguments)
        figures[label] = seconds
        print(f"  {label:<50} {seconds:7.1f} s{'' if ok else '  (FAILED)'}", flush=True)
    baseline = figures["start-up + public schema only (--shared)"]
    print("Per tenant schema, start-up subtracted:")
    for label in list(RUNS)[1:]:
        print(f"  {label:<50} {1000 * (figures[label] - baseline) / schemas:7.0f} ms")
    if args.cleanup:
        print(f"\nDeleted {delete_workspaces()} bench workspaces (schemas dropped).")


if __name__ == "__main__":
    main()
