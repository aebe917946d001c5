"""Churn risk model on the demo-like history: holdout AUC of the chosen model next to the naive Bayes anchor (both
from the training report, newest fifth held out by cut-off time), the heuristic's AUC on the same holdout, and what
collecting the rows and training cost.

The history is the one `manage.py seed_demo` writes (customers, ~25 tickets each over six months, health backfill,
then customers.demo.seed_churn marking ~8 % churned, mostly the sickest a month before they left), seeded into a
workspace of its own, "bench-churn" (kept for later runs; `--drop` removes it).

Run by hand while the embedded servers run (`make run` or `make services`):

    .venv/bin/python bench/customer_churn.py [--customers 600] [--seed 11]
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

from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.demo import seed_team  # noqa: E402
from ai import facade as ai  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from customers import churn  # noqa: E402
from customers.demo import seed_customers, seed_health  # noqa: E402
from helpdesk.demo import seed_helpdesk  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-churn"


def workspace(customers: int, seed: int) -> Tenant:
    tenant = bench_workspace(SLUG, "Bench churn")
    with tenant_context(tenant):
        team = seed_team(email_domain="bench-churn.test")
        owners = [user for user in team.values() if user.role in ("agent", "sales")]
        if seed_customers(owners=owners, customers=customers, contacts=3 * customers, seed=seed):
            agents = [user for user in team.values() if user.role in ("agent", "admin")]
            seed_helpdesk(agents=agents, tickets=25 * customers, seed=seed, articles=False)
            print(seed_health())
    return tenant


def auc(scores: list[float], outcomes: list[bool]) -> float | None:
    positives = [s for s, o in zip(scores, outcomes, strict=True) if o]
    negatives = [s for s, o in zip(scores, outcomes, strict=True) if not o]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    print(f"load average before: {os.getloadavg()}")
    tenant = workspace(args.customers, args.seed)
    with tenant_context(tenant):
        started = time.perf_counter()
        data = churn.churn_training_data()
        collect_ms = (time.perf_counter() - started) * 1000
        churned = sum(data.outcomes)
        share = churned / max(1, len(data.rows))
        print(f"rows {len(data.rows)}, churned {churned} ({share:.1%}); collect {collect_ms:.0f} ms")
        holdout = len(data.rows) - len(data.rows) // 5
        heuristic = [
            churn.heuristic(
                row["health_score"],
                None if row["health_change_30d"] is None else row["health_score"] - row["health_change_30d"],
            )[0]
            or 0.0
            for row in data.rows[holdout:]
        ]
        print(f"heuristic AUC on the newest fifth: {auc(heuristic, list(data.outcomes[holdout:]))}")
        started = time.perf_counter()
        try:
            report = ai.outcome_model_train(
                churn.MODEL, data.rows, data.outcomes, outcome_names=data.outcome_names, fingerprint=data.fingerprint
            )
        except ai.AIInputError as error:
            print(f"no training: {error}")
            return
        print(f"training {(time.perf_counter() - started) * 1000:.0f} ms")
        print(
            f"model AUC {report.auc}, naive Bayes anchor AUC {report.anchor_auc}, Brier {report.brier} "
            f"(base rate {report.baseline_brier}), deployed {report.deployed}: {report.decision}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
