"""SLA risk model on the demo history: AUC and accuracy of the learned model (and of the heuristic) on the newest
tickets, plus what training, assessing and sweeping cost.

The history is the one `manage.py seed_demo` writes (helpdesk.demo.seed_helpdesk: ~5,000 tickets over six months
with SLA outcomes), seeded into a workspace of its own, "bench-sla" (kept for later runs; `--drop` removes it).

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/helpdesk_sla_model.py [--tickets 5000] [--seed 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.demo import seed_team  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from customers.demo import seed_customers  # noqa: E402
from helpdesk import sla_risk  # noqa: E402
from helpdesk.demo import seed_helpdesk  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402
from helpdesk.selectors import sla as sla_selectors  # noqa: E402
from helpdesk.services import sla  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-sla"


def workspace(tickets: int, seed: int) -> Tenant:
    tenant = bench_workspace(SLUG, "Bench SLA")
    with tenant_context(tenant):
        team = seed_team(email_domain="bench-sla.test")
        owners = [user for user in team.values() if user.role in ("agent", "sales")]
        seed_customers(owners=owners, customers=400, contacts=1200, seed=seed)
        agents = [user for user in team.values() if user.role in ("agent", "admin")]
        started = time.perf_counter()
        summary = seed_helpdesk(agents=agents, tickets=tickets, seed=seed, articles=False)
        if summary.tickets:
            print(f"seeded {summary.tickets} tickets in {time.perf_counter() - started:.1f} s")
    return tenant


def timed(label: str, function, runs: int = 1):
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - started) * 1000)
    spread = f"p50 {statistics.median(timings):8.1f} ms" if runs > 1 else f"{timings[0]:11.1f} ms"
    print(f"{label:<44} {spread}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    tenant = workspace(args.tickets, args.seed)
    with tenant_context(tenant):
        finished = Ticket.objects.filter(status__in=Ticket.DONE_STATUSES, resolution_due__isnull=False).count()
        open_tickets = Ticket.objects.open().count()
        print(
            f"workspace {SLUG}: {Ticket.objects.count()} tickets, {finished} finished with an SLA, {open_tickets} open"
        )
        rows = timed("training rows (3 moments per finished ticket)", sla_selectors.risk_training_rows)
        fitted = timed("fit + time-split evaluation", lambda: sla_risk.fit(rows))
        model = timed("sla_risk_model_train (rows + fit + save)", sla.sla_risk_model_train)
        if fitted is None or model is None:
            print("no model: too little history, or no breaches to learn from")
            return
        print()
        print(f"tickets learned from           {fitted.samples}  (breached {fitted.breached_share:.1%})")
        print(f"held out (newest 20 %)         {fitted.holdout_samples} tickets")
        print(f"learned model   AUC {fitted.auc:.3f}   accuracy {fitted.accuracy:.3f}")
        print(f"heuristic       AUC {fitted.heuristic_auc:.3f}")
        base = max(fitted.breached_share, 1 - fitted.breached_share)
        print(f"always-majority accuracy       {base:.3f}")
        coefficients = sorted(
            zip(fitted.parameters["features"], fitted.parameters["coef"], strict=True), key=lambda item: -abs(item[1])
        )
        print("coefficients (standardised):   " + ", ".join(f"{name} {coef:+.2f}" for name, coef in coefficients))
        print()
        sample = list(Ticket.objects.open().select_related("customer", "sla_policy")[:50])
        if sample:
            with CaptureQueriesContext(connection) as queries:
                sla.ticket_sla_risk_assess(sample[0])
            timed(
                f"ticket_sla_risk_assess, one ticket ({len(queries)} queries)",
                lambda: sla.ticket_sla_risk_assess(sample[0]),
                50,
            )
        timed(f"sla_risk_refresh_open ({open_tickets} open tickets)", sla.sla_risk_refresh_open)
        caught_up = timed("sla_sweep, first run (catches the history up)", sla.sla_sweep)
        print(f"  warned {caught_up.warned}, breached {caught_up.breached}")
        timed("sla_sweep, every minute after (nothing new)", sla.sla_sweep, 20)
        with CaptureQueriesContext(connection) as queries:
            sla_selectors.sla_metrics_get(days=30)
        timed(f"sla_metrics_get(days=30) ({len(queries)} queries)", lambda: sla_selectors.sla_metrics_get(days=30), 20)
    connection.set_schema_to_public()


if __name__ == "__main__":
    main()
