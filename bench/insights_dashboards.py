"""Dashboards at 100k tickets, 10k leads, 5k quotes: the full page of an 8-widget dashboard and one widget's HTMX
refresh, through the whole Django stack (middleware, tenant routing, session, view, templates), p50 and p95.

Run by hand while the embedded servers run (`make services`), after bench/insights.py has seeded its workspace
"bench-insights" and rebuilt its rollups:
    .venv/bin/python bench/insights.py --repeats 5          # once: seeds and repairs (skip if done)
    .venv/bin/python bench/insights_dashboards.py [--repeats 60]

The 8 widgets: four numbers (tickets created, SLA adherence, CSAT, quote win rate), the daily trend of tickets, the
tickets by team (bars), agent performance (a table) and the sales funnel: every kind of the catalog, reading
tickets, leads and quotes. Each case is measured over 30 and 365 days, and with a team and a channel filter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from helpdesk.models import Team, Ticket  # noqa: E402
from insights import services  # noqa: E402
from insights.models import DailyRollup, Dashboard  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-insights"
WIDGETS = (
    ("tickets_created", "small"),
    ("sla_adherence", "small"),
    ("csat_average", "small"),
    ("quote_win_rate", "small"),
    ("tickets_trend", "large"),
    ("tickets_by_team", "medium"),
    ("agent_performance", "medium"),
    ("sales_funnel", "medium"),
)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def line(label: str, timings_ms: list[float]) -> None:
    print(f"  {label:<52} p50 {statistics.median(timings_ms):7.1f} ms   p95 {p95(timings_ms):7.1f} ms")


def dashboard(owner: User) -> Dashboard:
    board = Dashboard.objects.filter(name="Bench 8 widgets").first()
    if board is None:
        board = services.dashboard_create(owner=owner, name="Bench 8 widgets")
        for key, size in WIDGETS:
            services.widget_add(dashboard=board, key=key, size=size)
    return board


def timed(client: Client, url: str, repeats: int, **headers: str) -> list[float]:
    client.get(url, headers=headers)  # warm: templates compiled, connections open
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    tenant = Tenant.objects.get(slug=SLUG)
    with tenant_context(tenant):
        if not DailyRollup.objects.exists():
            sys.exit("No rollups in bench-insights: run bench/insights.py first.")
        owner = User.objects.get(email=f"owner@{SLUG}.test")
        board = dashboard(owner)
        team = Team.objects.order_by("id").first()
        tickets, rows = Ticket.objects.count(), DailyRollup.objects.count()
        print(f"{tickets:,} tickets, {rows:,} rollup rows, load {os.getloadavg()}")
        client = Client(HTTP_HOST=workspace_domain(SLUG))
        client.force_login(owner)  # the session lives in the workspace's schema
    page = reverse("insights:dashboard", args=[board.pk], urlconf="config.urls.tenant")
    widget = reverse("insights:widget", args=[board.pk, 0], urlconf="config.urls.tenant")
    trend = reverse("insights:widget", args=[board.pk, 4], urlconf="config.urls.tenant")
    table = reverse("insights:widget", args=[board.pk, 6], urlconf="config.urls.tenant")
    cases = {
        "30 days": "?period=30d",
        "365 days": "?period=365d",
        "30 days, one team and a channel": f"?period=30d&team={team.pk}&channel=email",
    }
    print(f"8-widget dashboard, {args.repeats} requests each (full page through the Django stack):")
    for label, query in cases.items():
        line(f"full page, {label}", timed(client, page + query, args.repeats))
    htmx = {"HX-Request": "true"}
    print("One widget's HTMX refresh:")
    for label, query in cases.items():
        line(f"number, {label}", timed(client, widget + query, args.repeats, **htmx))
    line("trend line, 365 days", timed(client, trend + "?period=365d", args.repeats, **htmx))
    line("agent table, 30 days", timed(client, table + "?period=30d", args.repeats, **htmx))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
