"""Time from ticket create to AI analysis stored (local provider): p50/p95, inline and through a real worker.

A workspace "bench-helpdesk-ai" gets the eight categories of the labelled ticket set (ai/tests/data) and a
few solved tickets and articles to retrieve from. Then, one ticket at a time (latency, not throughput):

* inline: `ticket_create` then `ticket_analyze` in this process, what the worker does once it has the task;
  the split shows where the time goes (create, analysis);
* worker (`--worker`, default on): `ticket_create` commits and queues `analyze_ticket_task` on a private Redis
  database; a real `celery worker` (started here, solo pool) runs it. Measured from just before the create
  call to `ai_analysis_date` (stamped when the analysis is stored), on the same clock.

"Shown" adds what the agent's page does next: the websocket push of the panel reload and one GET of the panel
(`render panel` below times selectors.ai_panel plus the template, without the network).

Run by hand while the embedded servers run (`make services`):
    .venv/bin/python bench/helpdesk_analysis.py [--tickets 40] [--no-worker]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from ai import facade  # noqa: E402
from ai.models import AIRun, Embedding  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from core.testing.live import CeleryWorker, RedisDatabases, celery_reset_connections, database_url, server_env  # noqa: E402
from helpdesk.models import Article, Category, Ticket, TicketMessage  # noqa: E402
from helpdesk.selectors import ticket_ai as ticket_ai_selectors  # noqa: E402
from helpdesk.services import kb as kb_services  # noqa: E402
from helpdesk.services import ticket_ai  # noqa: E402
from helpdesk.services.tickets import ticket_create  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-helpdesk-ai"
DATA = Path(__file__).resolve().parent.parent / "ai" / "tests" / "data"
LABELS = json.loads((DATA / "labels.json").read_text())
TICKETS = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]
REQUESTER = "bench-requester@bench-helpdesk-ai.test"
WARM_UP = 3
SOLUTION = "Thanks for waiting. We fixed the setting on our side; it works again now."


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Helpdesk AI")
    return tenant


def seed() -> None:
    """Categories, a few public articles and solved tickets, so every part of the analysis has work to do."""
    for name, description in LABELS.items():
        Category.objects.get_or_create(name=name, defaults={"description": description})
    articles = [
        ("Reset a forgotten password", "Open the sign-in page and click **Forgot password**; we email a link."),
        ("Export reports to CSV", "Open **Reports**, choose *Export* and pick CSV. Large exports arrive by email."),
        ("Track your parcel", "The tracking number is in the shipping email; the courier updates it daily."),
    ]
    for title, body in articles:
        Article.objects.get_or_create(
            slug=title.lower().replace(" ", "-"),
            defaults={"title": title, "body": body, "status": Article.Status.PUBLISHED},
        )
    kb_services.articles_reindex()
    agent = get_user_model().objects.order_by("pk").first()
    if not Ticket.objects.filter(status=Ticket.Status.SOLVED, subject__startswith="[bench solved]").exists():
        for row in TICKETS[300:320]:
            subject = f"[bench solved] {row['label']}"
            ticket = ticket_create(subject=subject, description=row["text"], requester_email=REQUESTER)
            TicketMessage.objects.create(ticket=ticket, body=SOLUTION, author=agent)
            Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.SOLVED)
    ticket_ai.solved_tickets_index_all()


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * share) - 1)]


def line(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<40} p50 {statistics.median(samples):7.1f} ms   p95 {percentile(samples, 0.95):7.1f} ms"
        f"   max {max(samples):7.1f} ms   (n={len(samples)})"
    )


def _create(row: dict) -> Ticket:
    subject, _, rest = row["text"].partition("\n")
    return ticket_create(subject=subject[:200], description=rest or row["text"], requester_email=REQUESTER)


def run_inline(rows: list[dict]) -> None:
    creates, analyses, totals, panels = [], [], [], []
    for index, row in enumerate(rows):
        started = time.perf_counter()
        ticket = _create(row)
        created = time.perf_counter()
        ticket_ai.ticket_analyze(ticket.pk)
        done = time.perf_counter()
        ticket.refresh_from_db()
        panel_started = time.perf_counter()
        panel = ticket_ai_selectors.ai_panel(ticket=ticket, user=None)
        render_to_string("helpdesk/_ai_panel.html#ai-panel", {"panel": panel})
        panel_done = time.perf_counter()
        if index >= WARM_UP:
            creates.append((created - started) * 1000)
            analyses.append((done - created) * 1000)
            totals.append((done - started) * 1000)
            panels.append((panel_done - panel_started) * 1000)
    print("inline (this process does the worker's part):")
    line("ticket_create (commit)", creates)
    line("ticket_analyze (7 AI runs + retrieval)", analyses)
    line("create → analysis stored", totals)
    line("render panel (selector + template)", panels)


def run_worker(rows: list[dict], redis_url: str, log_dir: Path) -> None:
    redis.Redis.from_url(redis_url).flushdb()  # the inline run's queued tasks: not the worker's to time
    env = server_env(database=database_url(connection.settings_dict), redis_url=redis_url)
    worker = CeleryWorker.start(env=env, redis_url=redis_url, log_dir=log_dir)
    try:
        totals = []
        for index, row in enumerate(rows):
            started = time.time()
            ticket = _create(row)
            while True:
                ticket.refresh_from_db(fields=["ai_analysis_status", "ai_analysis_date"])
                if ticket.ai_analysis_status in ("done", "failed"):
                    break
                time.sleep(0.005)
            assert ticket.ai_analysis_status == "done", f"analysis of #{ticket.pk} failed"
            if index >= WARM_UP:
                totals.append((ticket.ai_analysis_date.timestamp() - started) * 1000)
        print("real worker (Redis broker, celery worker --pool=solo, its own process and model):")
        line("create → analysis stored", totals)
    finally:
        worker.stop()


def clean_up(before: int) -> None:
    tickets = Ticket.objects.filter(pk__gt=before)
    ids = [str(pk) for pk in tickets.values_list("pk", flat=True)]
    Embedding.objects.filter(source="helpdesk.ticket", object_id__in=ids).delete()
    tickets.delete()
    AIRun.objects.filter(feature__startswith="helpdesk.").delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=40, help="timed tickets per mode (plus 3 warm-up)")
    parser.add_argument("--no-worker", action="store_true", help="only the inline measurement")
    args = parser.parse_args()
    tenant = workspace()
    count = args.tickets + WARM_UP
    # Celery on a Redis database of its own: tasks queued here never reach a development worker.
    databases = RedisDatabases(settings.REDIS_URL)
    redis_url = databases.lease()
    celery_app.conf.broker_url = celery_app.conf.result_backend = redis_url
    celery_reset_connections(celery_app)
    with tenant_context(tenant):
        facade.invalidate_cache()  # every measured call computes, none is a cache hit from an earlier run
        seed()
        before = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        print(f"load average {os.getloadavg()[0]:.2f}; {args.tickets} tickets per mode, one at a time")
        try:
            run_inline(TICKETS[:count])
            if not args.no_worker:
                with tempfile.TemporaryDirectory(prefix="bench-worker-") as log_dir:
                    run_worker(TICKETS[100 : 100 + count], redis_url, Path(log_dir))
        finally:
            clean_up(before)
            databases.release_all()


if __name__ == "__main__":
    main()
