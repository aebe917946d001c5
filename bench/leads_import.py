"""Lead CSV import speed: N rows (half naming known contacts, all naming known companies) through
`leads.imports.leads_import_csv`, in a transaction rolled back: wall and CPU time, SQL statements.

Run by hand after `bench/leads.py` seeded the workspace "bench-leads" (its 2,000 companies and 4,000 contacts),
while the embedded servers run:
    .venv/bin/python bench/leads_import.py [--rows 1000] [--runs 2]
Nothing is kept. The board push, rendered at commit, does not run (the transaction rolls back).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from customers.models import Contact, Customer  # noqa: E402
from leads.imports import leads_import_csv  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-leads"


def csv_bytes(rows: int) -> bytes:
    contacts = list(Contact.objects.exclude(email="").order_by("id").values_list("email", flat=True)[: rows // 2])
    companies = list(Customer.objects.order_by("id").values_list("name", flat=True)[:rows])
    lines = ["title,company,contact_email,value,owner_email,stage"]
    for index in range(rows):
        known = index % 2 and index // 2 < len(contacts)
        email = contacts[index // 2] if known else f"new{index}@prospect{index}.io"
        company = companies[index % len(companies)].replace('"', '""')
        lines.append(f'Import {index},"{company}",{email},{index * 10},sales@bench.test,Qualified')
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tenant_context(Tenant.objects.get(slug=SLUG)):
        seller = User.objects.get(email="sales@bench.test")
        data = csv_bytes(args.rows)
        for _ in range(args.runs):
            statements = 0

            def counting(execute, sql, params, many, context):
                nonlocal statements
                statements += 1
                return execute(sql, params, many, context)

            with transaction.atomic():
                started, cpu_started = time.perf_counter(), time.process_time()
                with connection.execute_wrapper(counting):
                    upload = SimpleUploadedFile("leads.csv", data, content_type="text/csv")
                    result = leads_import_csv(file=upload, actor=seller)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                transaction.set_rollback(True)
            print(
                f"{args.rows} rows: {result.created} created, {len(result.errors)} refused   "
                f"{wall * 1000:7.0f} ms wall   {cpu * 1000:6.0f} ms CPU   {statements} statements"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
