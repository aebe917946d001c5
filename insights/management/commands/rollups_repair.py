"""`manage.py rollups_repair [--days 365] [--schema NAME]`: recompute rollups from the apps' data (default a year;
--days 0 rebuilds everything), in every active workspace or one."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from insights import services
from tenants.services import tenant_run, tenants_active


class Command(BaseCommand):
    help = "Recompute insights' rollups for the last N days from tickets, leads, quotes and AI runs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--schema", default="", help="One workspace's schema (default: every active workspace).")

    def handle(self, *args, days: int, schema: str, **options) -> None:
        for tenant in tenants_active():
            if schema and tenant.schema_name != schema:
                continue
            started = time.perf_counter()
            report = tenant_run(tenant, lambda: services.rollups_repair_recent(days=days))
            self.stdout.write(
                f"{tenant.schema_name}: {report.sources} sources, {report.counters} counters since "
                f"{report.since or 'the start'} in {time.perf_counter() - started:.1f} s"
            )
