"""Lead conversion model on the demo history: held-out AUC of the chosen model next to the naive Bayes anchor (both
from the training report), the Brier score against the base rate's, and what collecting and training cost.

The history is the one `manage.py seed_demo` writes (leads.demo.seed_leads: leads over 18 months whose wins depend
on source, activity and value against the company's size), seeded into a workspace of its own, "bench-leads-model"
(kept for later runs; `--drop` removes it). The rows are leads.intelligence.conversion_data(), as the AI models page
trains them: closed leads oldest first, the newest fifth held out.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/leads_model.py [--leads 300,1000,3000] [--seed 7]
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

from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.demo import seed_team  # noqa: E402
from ai import facade as ai  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from customers.demo import seed_customers  # noqa: E402
from leads import intelligence  # noqa: E402
from leads.demo import seed_leads  # noqa: E402
from leads.models import Lead  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-leads-model"


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench leads model")
    return tenant


def one_size(leads: int, seed: int, owners: list, without: set[str]) -> None:
    if Lead.objects.count() != leads:
        Lead.objects.all().delete()
        seed_leads(owners=owners, leads=leads, seed=seed)
    started = time.perf_counter()
    data = intelligence.conversion_data()
    collected = time.perf_counter() - started
    if without:  # what the model does with less of the story, e.g. early in a lead's life
        data = type(data)(tuple({k: v for k, v in row.items() if k not in without} for row in data.rows), data.outcomes)
    won = sum(data.outcomes)
    started = time.perf_counter()
    report = ai.outcome_model_train(
        intelligence.OUTCOME_MODEL, data.rows, data.outcomes, outcome_names=data.outcome_names, fingerprint="bench"
    )
    trained = time.perf_counter() - started
    auc = f"{report.auc:.3f}" if report.auc is not None else "—"
    anchor = f"{report.anchor_auc:.3f}" if report.anchor_auc is not None else "—"
    brier = f"{report.brier:.3f} vs {report.baseline_brier:.3f}" if report.brier is not None else "—"
    print(
        f"{leads:>6} leads | {len(data.rows):>5} closed ({won} won) | AUC {auc} | anchor {anchor} | Brier {brier} | "
        f"collect {collected * 1000:.0f} ms | train {trained:.1f} s | {report.status}, deployed {report.deployed}"
    )
    if report.decision:
        print(f"       {report.decision}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", default="300,1000,3000", help="history sizes, comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--without", default="", help="fields left out of the rows, comma-separated")
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    tenant = workspace()
    with tenant_context(tenant):
        team = seed_team(email_domain=f"{SLUG}.test")
        owners = [user for user in team.values() if user.role in ("sales", "admin")] or list(team.values())
        seed_customers(owners=owners, customers=400, contacts=1200, seed=args.seed)
        print(f"load average {os.getloadavg()[0]:.1f}; without: {args.without or 'nothing'}")
        for size in (int(value) for value in args.leads.split(",")):
            one_size(size, args.seed, owners, set(filter(None, args.without.split(","))))
        print(f"load average {os.getloadavg()[0]:.1f}")
    connection.set_schema_to_public()


if __name__ == "__main__":
    main()
