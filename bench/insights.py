"""Insights at 100k tickets, 10k leads, 5k quotes (and 20k AI runs) over a year: the nightly repair of a year (a
from-scratch rebuild of the rollups), the 2-day nightly window, rollup upkeep per event (p95), and each metric's p95
over 30 and 365 days, with and without filters.

Run by hand while the embedded servers run (`make services`):
    .venv/bin/python bench/insights.py [--tickets 100000] [--leads 10000] [--quotes 5000] [--runs 20000]
        [--events 500] [--repeats 40] [--only repair|upkeep|metrics ...] [--drop]

The first run seeds a workspace "bench-insights" (kept for later runs; `--drop` removes it): tickets as
bench/helpdesk_tickets.py writes them (one INSERT … SELECT, a year, the demo's teams, categories and SLA policies),
CSAT answers on 30 % of solved tickets, leads, quotes and AI runs with feedback by bulk_create (no events: the repair
builds the rollups from them). Per-event upkeep is measured as the worker runs it (`rollups_refresh` for one
ticket, lead, quote or AI run whose state just changed), after the change committed. `--only upkeep` skips the
slow repair and metrics parts while iterating on upkeep (it rebuilds the rollups first if they were never built).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # celery's Django fixup puts the working directory first on sys.path: measure this checkout's code
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from ai.models import AIFeedback, AIRun  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from bench.helpdesk_tickets import _agents, _seed_tickets  # noqa: E402
from customers.demo import seed_customers  # noqa: E402
from customers.models import Customer  # noqa: E402
from helpdesk.demo.setup import ensure_setup  # noqa: E402
from helpdesk.models import Team, Ticket  # noqa: E402
from insights import facade, services  # noqa: E402
from insights.contracts import MetricFilters  # noqa: E402
from insights.models import DailyRollup, RollupSource  # noqa: E402
from leads import services as lead_services  # noqa: E402
from leads.models import Lead, Pipeline, StageKind  # noqa: E402
from quotes.models import Quote, QuoteStatus  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-insights"
PARTS = ("repair", "upkeep", "metrics")
YEAR = 365


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def line(label: str, timings_ms: list[float]) -> None:
    print(f"  {label:<46} p50 {statistics.median(timings_ms):7.2f} ms   p95 {p95(timings_ms):7.2f} ms")


# --- Seeding ------------------------------------------------------------------------------------------------------


def workspace(tickets: int, leads: int, quotes: int, runs: int) -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Insights")
    with tenant_context(tenant):
        agents = _agents()
        seed_customers(owners=agents[:1], customers=2000, contacts=6000, seed=7)
        setup = ensure_setup(agents=agents, rng=random.Random(1), today=timezone.now().date())
        missing = tickets - Ticket.objects.count()
        if missing > 0:
            started = time.perf_counter()
            _seed_tickets(missing, agents, setup)
            _seed_surveys()
            print(f"seeded {missing:,} tickets (+ CSAT) in {time.perf_counter() - started:.1f} s")
        rng = random.Random(3)
        if not Lead.objects.exists():
            started = time.perf_counter()
            _seed_leads(leads, agents, rng)
            print(f"seeded {leads:,} leads in {time.perf_counter() - started:.1f} s")
        if not Quote.objects.exists():
            started = time.perf_counter()
            _seed_quotes(quotes, agents, rng)
            print(f"seeded {quotes:,} quotes in {time.perf_counter() - started:.1f} s")
        if not AIRun.objects.exists():
            started = time.perf_counter()
            _seed_runs(runs, rng)
            print(f"seeded {runs:,} AI runs in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return tenant


def _seed_surveys() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO helpdesk_satisfactionsurvey (ticket_id, token, rating, comment, sent_at, answered_at) "
            "SELECT id, md5(random()::text || id), 1 + floor(random() * 5)::int, '', solved_at, "
            "solved_at + interval '3 hours' FROM helpdesk_ticket "
            "WHERE solved_at IS NOT NULL AND random() < 0.3 AND solved_at < now() - interval '3 hours'"
        )


def _when(rng: random.Random, now, *, within_days: int = YEAR):
    return now - timedelta(seconds=rng.random() * within_days * 86400)


def _seed_leads(count: int, agents: list[User], rng: random.Random) -> None:
    pipeline = Pipeline.objects.filter(is_default=True).first() or lead_services.pipeline_create(
        name="Bench", is_default=True
    )
    stages = {kind: [s for s in pipeline.stages.all() if s.kind == kind] for kind in StageKind.values}
    now, rows = timezone.now(), []
    for index in range(count):
        created = _when(rng, now)
        kind = rng.choices(list(StageKind.values), (0.4, 0.35, 0.25))[0]
        closed = min(now, created + timedelta(days=rng.random() * 60))
        rows.append(
            Lead(
                title=f"Bench deal {index:05d}",
                stage=rng.choice(stages[kind]),
                owner=rng.choice(agents),
                value=Decimal(rng.randint(1, 500) * 100),
                currency=rng.choice(("USD", "USD", "EUR")),
                source=rng.choice(Lead.Source.values),
                position=index * 1024.0,
                created=created,
                updated=closed if kind != StageKind.OPEN else created,
                won_at=closed if kind == StageKind.WON else None,
                lost_at=closed if kind == StageKind.LOST else None,
            )
        )
    Lead.objects.bulk_create(rows, batch_size=5000)


def _seed_quotes(count: int, agents: list[User], rng: random.Random) -> None:
    customers = list(Customer.objects.values_list("pk", flat=True)[:500])
    now, rows = timezone.now(), []
    statuses = [QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED]
    for index in range(count):
        created = _when(rng, now)
        status = rng.choices(statuses, (0.1, 0.2, 0.35, 0.2, 0.15))[0]
        sent = None if status == QuoteStatus.DRAFT else min(now, created + timedelta(days=rng.random() * 3))
        closed = min(now, sent + timedelta(days=rng.random() * 30)) if status in statuses[2:] else None
        rows.append(
            Quote(
                number=500_000 + index,
                title=f"Bench quote {index}",
                customer_id=rng.choice(customers),
                owner=rng.choice(agents),
                status=status,
                total=Decimal(rng.randint(100, 90_000)),
                created=created,
                updated=closed or sent or created,
                sent_at=sent,
                closed_at=closed,
                accepted_at=closed if status == QuoteStatus.ACCEPTED else None,
            )
        )
    Quote.objects.bulk_create(rows, batch_size=2000)


def _seed_runs(count: int, rng: random.Random) -> None:
    now, rows = timezone.now(), []
    for _ in range(count):
        rows.append(
            AIRun(
                feature=rng.choice(("ticket_summary", "reply_draft", "ticket_triage", "quote_copilot")),
                operation="generate",
                provider=rng.choice(("local", "local", "openai", "anthropic")),
                cost_usd=Decimal(rng.randint(0, 5000)) / 1_000_000,
                status=rng.choices(("ok", "fallback", "error"), (0.9, 0.07, 0.03))[0],
                created=_when(rng, now),
            )
        )
    made = AIRun.objects.bulk_create(rows, batch_size=5000)
    outcomes = AIFeedback.Outcome.values
    feedback = []
    for run in made:
        if rng.random() < 0.4:
            outcome = rng.choice(outcomes)
            distance = rng.randint(1, 90) if outcome == "edited" else None
            feedback.append(AIFeedback(run=run, outcome=outcome, edit_distance=distance))
    AIFeedback.objects.bulk_create(feedback, batch_size=5000)


# --- Measures -----------------------------------------------------------------------------------------------------


def bench_repair() -> None:
    for label, days in (("repair of the last 365 days", YEAR), ("rebuild of everything (TRUNCATE)", 0)):
        started = time.perf_counter()
        report = services.rollups_repair_recent(days=days)
        seconds = time.perf_counter() - started
        counters, ledger = DailyRollup.objects.count(), RollupSource.objects.count()
        print(f"{label}: {seconds:.1f} s — {report.sources:,} sources, {counters:,} counters, {ledger:,} ledger rows")
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        services.rollups_repair_recent(days=2)
        timings.append(time.perf_counter() - started)
    print(f"nightly repair, default window (2 days): median {statistics.median(timings):.2f} s")


def bench_events(events: int) -> None:
    """A change committed, then the worker's upkeep for it: the time of `rollups_refresh` per event."""
    rng = random.Random(9)
    teams = list(Team.objects.values_list("pk", flat=True))
    ticket_ids = list(Ticket.objects.order_by("?").values_list("pk", flat=True)[:events])
    lead_ids = list(Lead.objects.order_by("?").values_list("pk", flat=True)[: events // 2])
    quote_ids = list(Quote.objects.order_by("?").values_list("pk", flat=True)[: events // 2])
    run_ids = list(AIRun.objects.order_by("?").values_list("pk", flat=True)[: events // 2])
    timings: dict[str, list[float]] = {"ticket": [], "lead": [], "quote": [], "ai_run": []}
    for pk in ticket_ids:
        with transaction.atomic():
            Ticket.objects.filter(pk=pk).update(team_id=rng.choice(teams), priority=rng.choice(Ticket.Priority.values))
        _timed(timings["ticket"], "ticket", pk)
    for pk in lead_ids:
        Lead.objects.filter(pk=pk).update(value=Decimal(rng.randint(1, 500) * 100))
        _timed(timings["lead"], "lead", pk)
    for pk in quote_ids:
        Quote.objects.filter(pk=pk).update(total=Decimal(rng.randint(100, 90_000)))
        _timed(timings["quote"], "quote", pk)
    for pk in run_ids:
        AIRun.objects.filter(pk=pk).update(cost_usd=Decimal(rng.randint(0, 5000)) / 1_000_000)
        _timed(timings["ai_run"], "ai_run", pk)
    print(f"rollup upkeep per event ({events} tickets, {events // 2} leads, quotes and AI runs each changed):")
    for kind, values in timings.items():
        line(kind, values)
    line("all events", [value for values in timings.values() for value in values])


def _timed(timings: list[float], kind: str, pk: int) -> None:
    started = time.perf_counter()
    services.rollups_refresh(kind=kind, ids=[pk])
    timings.append((time.perf_counter() - started) * 1000)


def bench_metrics(repeats: int) -> None:
    today = timezone.localdate()
    team = Team.objects.order_by("pk").values_list("pk", flat=True).first()
    agent = Ticket.objects.exclude(assignee=None).values_list("assignee_id", flat=True).first()
    cases = {
        "30 days": MetricFilters(start=today - timedelta(days=29), end=today),
        "365 days": MetricFilters(start=today - timedelta(days=364), end=today),
        "90 days, team + email + enterprise": MetricFilters(
            start=today - timedelta(days=89), end=today, team_id=team, channel="email", tier="enterprise"
        ),
        "90 days, one agent": MetricFilters(start=today - timedelta(days=89), end=today, agent_id=agent),
    }
    functions = [
        facade.sla_metrics,
        facade.csat_metrics,
        facade.ticket_volume_metrics,
        facade.agent_performance_metrics,
        facade.lead_velocity_metrics,
        facade.quote_cycle_time_metrics,
        facade.ai_usage_metrics,
    ]
    for label, filters in cases.items():
        print(f"metrics over {label} ({repeats} runs each, previous period included):")
        for function in functions:
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                function(filters)
                timings.append((time.perf_counter() - started) * 1000)
            line(function.__name__, timings)
    sla = facade.sla_metrics(cases["30 days"])
    print(
        f"(sample: 30-day SLA adherence {sla.adherence.value:.3f} vs {sla.adherence.previous:.3f}, first response "
        f"p50 {sla.first_response_p50.value:.0f} min, resolution p90 {sla.resolution_p90.value:.0f} min)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--quotes", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=PARTS, help="the parts to run (default: all)")
    parser.add_argument("--drop", action="store_true")
    options = parser.parse_args()
    if options.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        print("dropped the bench workspace")
        return
    tenant = workspace(options.tickets, options.leads, options.quotes, options.runs)
    print(f"uptime: {os.popen('uptime').read().strip()}")
    with tenant_context(tenant):
        if "repair" in options.only:
            bench_repair()
        elif not RollupSource.objects.exists():  # upkeep diffs against the ledger a rebuild writes
            services.rollups_repair_recent(days=0)
        if "upkeep" in options.only:
            bench_events(options.events)
        if "metrics" in options.only:
            bench_metrics(options.repeats)
    print(f"uptime: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
