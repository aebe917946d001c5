"""The daily summary job (`customers.digests.daily_summaries_generate`) over a workspace: how many companies it
summarised, wall and CPU time, SQL statements, in a transaction rolled back.

Run by hand while the embedded servers run, on a workspace another bench seeded (default "bench-timeline": 401
companies, 20,000 tickets over two years):
    .venv/bin/python bench/daily_summaries.py [--workspace bench-timeline] [--days 3]
Each of the last `--days` days is summarised once. Nothing is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from customers import digests  # noqa: E402
from customers.models import Customer  # noqa: E402
from tenants.models import Tenant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", default="bench-timeline")
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tenant_context(Tenant.objects.get(slug=args.workspace)):
        print(f"workspace {args.workspace}: {Customer.objects.count()} companies")
        for back in range(1, args.days + 1):
            day = digests.yesterday() - timedelta(days=back - 1)
            statements = 0

            def counting(execute, sql, params, many, context):
                nonlocal statements
                statements += 1
                return execute(sql, params, many, context)

            with transaction.atomic():
                started, cpu_started = time.perf_counter(), time.process_time()
                with connection.execute_wrapper(counting):
                    written = digests.daily_summaries_generate(day=day)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                transaction.set_rollback(True)
            print(
                f"{day}: {written} summaries   {wall * 1000:7.0f} ms wall   {cpu * 1000:6.0f} ms CPU   "
                f"{statements} statements"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
