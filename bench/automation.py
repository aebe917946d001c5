"""Automation at 100k tickets: rule evaluation overhead per event with 200 active rules (p95, as the worker runs
`automation_event_task`), and one beat pass of the time rules (the first, catching up on a year of tickets, and a
steady one a minute later).

Run by hand while the embedded servers run (`make services`):
    .venv/bin/python bench/automation.py [--tickets 100000] [--rules 200] [--events 500] [--drop]

The first run seeds a workspace "bench-automation" (kept for later runs; `--drop` removes it) with tickets as
bench/helpdesk_tickets.py writes them. The 200 event rules are replaced on every run: ticket.updated rules with two or
three conditions each over every kind of field (choice, user, text, tags, number, AI fields, business hours), of
which a few match (adding a tag), so the figure is the evaluation overhead plus the odd firing, never a query per
rule. The time rules are the issue's three: urgent and unassigned for 30 minutes, pending for 3 days, no reply for
24 business hours.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from automation import engine, services, timers  # noqa: E402
from automation.compiled import rules_for  # noqa: E402
from automation.models import Rule, RuleFiring, RuleRun  # noqa: E402
from automation.tasks import automation_event_task  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from bench.helpdesk_tickets import _agents, _seed_tickets  # noqa: E402
from customers.demo import seed_customers  # noqa: E402
from helpdesk.demo.setup import ensure_setup  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-automation"
FIRING_RULES = 2  # rules that match an urgent ticket put on hold: a few events fire one
TIME_RULES = [
    {
        "name": "Urgent + unassigned 30 minutes",
        "trigger": "ticket.time",
        "timer": {"anchor": "created", "amount": 30, "unit": "minutes"},
        "conditions": {
            "all": [
                {"field": "priority", "op": "is", "value": "urgent"},
                {"field": "assignee", "op": "is_empty", "value": ""},
                {"field": "status", "op": "is", "value": ["new", "open"]},
            ]
        },
        "actions": [{"type": "add_tags", "value": ["escalated"]}],
    },
    {
        "name": "Pending 3 days",
        "trigger": "ticket.time",
        "timer": {"anchor": "updated", "amount": 3, "unit": "days"},
        "conditions": {"all": [{"field": "status", "op": "is", "value": "pending"}]},
        "actions": [{"type": "add_tags", "value": ["pending-3d"]}],
    },
    {
        "name": "No reply 24 business hours",
        "trigger": "ticket.time",
        "timer": {"anchor": "customer_waiting", "amount": 24, "unit": "business_hours"},
        "conditions": {"all": []},
        "actions": [{"type": "add_tags", "value": ["waiting-24h"]}],
    },
]


def _event_rule(index: int, rng: random.Random) -> dict:
    """A ticket.updated rule over varied fields. Every rule but FIRING_RULES has one selective condition (a tag or
    a subject word the tickets rarely have), as real rule sets do; the others make the odd event fire a rule."""
    pool = [
        {"field": "status", "op": "changed_to", "value": rng.choice(["solved", "closed", "on_hold"])},
        {"field": "priority", "op": "is", "value": rng.choice(["low", "normal", "high", "urgent"])},
        {"field": "breach_risk", "op": "gt", "value": str(rng.choice([30, 60, 90]))},
        {"field": "sentiment", "op": "is", "value": rng.choice(["negative", "neutral"])},
        {"field": "assignee", "op": "is_set", "value": ""},
        {"field": "event_time", "op": rng.choice(["within_business_hours", "outside_business_hours"])},
        {"field": "language", "op": "is_not", "value": "de"},
        {"field": "customer_tier", "op": "is", "value": "enterprise"},
    ]
    conditions = rng.sample(pool, rng.choice([1, 2]))
    if index >= FIRING_RULES:
        selective = rng.choice(
            [
                {"field": "tags", "op": "contains", "value": [f"bench-tag-{index % 17}"]},
                {"field": "subject", "op": "contains", "value": f"zzz-{index}"},
                {"field": "category", "op": "is", "value": "0"},
            ]
        )
        conditions = [selective, *conditions]
    else:
        conditions = [
            {"field": "priority", "op": "is", "value": "urgent"},
            {"field": "status", "op": "changed_to", "value": "on_hold"},
        ]
    return {
        "name": f"Bench rule {index}",
        "trigger": "ticket.updated",
        "conditions": {"all": conditions, "any": []},
        "actions": [{"type": "add_tags", "value": [f"rule-{index}"]}],
    }


def _seed(tickets: int) -> None:
    agents = _agents()
    have = Ticket.objects.count()
    if have >= tickets:
        return
    seed_customers(owners=agents[:1], customers=2000, contacts=6000, seed=7)
    setup = ensure_setup(agents=agents, rng=random.Random(1), today=timezone.now().date())
    print(f"seeding {tickets - have} tickets…", flush=True)
    _seed_tickets(tickets - have, agents, setup)


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else values[0]


def bench_events(rules: int, events: int) -> None:
    Rule.objects.all().delete()
    rng = random.Random(5)
    for index in range(rules):
        services.rule_create(data=_event_rule(index, rng), actor=None, enabled=True)
    assert len(rules_for("ticket.updated")) == rules
    ids = list(Ticket.objects.order_by("?").values_list("id", flat=True)[:events])
    # Warm: the compiled rules and the connection, as in a worker that has served events before.
    automation_event_task.run(**engine.Event("ticket.updated", "ticket", ids[0], changed=("status",)).task_kwargs())
    timings, fired = [], 0
    for ticket_id in ids:
        kwargs = engine.Event("ticket.updated", "ticket", ticket_id, changed=("status",)).task_kwargs()
        started = time.perf_counter()
        fired += automation_event_task.run(**kwargs)
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"event evaluation, {rules} active rules, {len(ids)} events ({fired} firings): "
        f"p50 {_p(timings, 50):.2f} ms, p95 {_p(timings, 95):.2f} ms, max {max(timings):.2f} ms"
    )
    no_fire = []
    for ticket_id in ids[:200]:  # the pure overhead: an event no rule matches (nothing written)
        kwargs = engine.Event("ticket.updated", "ticket", ticket_id, changed=()).task_kwargs()
        started = time.perf_counter()
        engine.event_process(engine.event_kwargs_parse(kwargs))
        no_fire.append((time.perf_counter() - started) * 1000)
    print(
        f"  of which evaluation alone (no rule matched, nothing written): p50 {_p(no_fire, 50):.2f} ms, "
        f"p95 {_p(no_fire, 95):.2f} ms"
    )


def bench_time_rules() -> None:
    """Beat's passes a minute apart: the first ones work through the backlog (at most timers.MAX_FIRINGS per rule and
    pass), the last is the steady state (only tickets whose timer ran out in that minute)."""
    Rule.objects.all().delete()
    for data in TIME_RULES:
        services.rule_create(data=data, actor=None, enabled=True)
    now = timezone.now()
    total = Ticket.objects.count()
    for minute in range(12):
        started = time.perf_counter()
        result = timers.time_rules_check(now=now + timezone.timedelta(minutes=minute))
        took = time.perf_counter() - started
        print(
            f"time rules, pass {minute + 1}: {took:.2f} s ({result.rules} rules, {result.examined} tickets examined, "
            f"{result.fired} fired) over {total} tickets"
        )
        if not result.fired:
            break


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--only", choices=("events", "time"))
    args = parser.parse_args()
    with schema_context("public"):
        if args.drop:
            Tenant.objects.filter(slug=SLUG).delete()
            print("dropped")
            return
        tenant = bench_workspace(SLUG, "Bench Automation")
    with tenant_context(tenant):
        _seed(args.tickets)
        if args.only in (None, "events"):
            bench_events(args.rules, args.events)
        if args.only in (None, "time"):
            bench_time_rules()
        print(f"runs logged: {RuleRun.objects.count()}, ledger rows: {RuleFiring.objects.count()}")
    print(os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
