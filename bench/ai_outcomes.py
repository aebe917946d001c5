"""Outcome models (ai/providers/local/outcomes.py) on a synthetic lead history: held-out AUC of the chosen model
against the naive Bayes anchor (Odoo's predictive lead scoring) on the same time-ordered split, calibration, training
time and single-lead prediction latency.

Run by hand (no database needed):
    .venv/bin/python bench/ai_outcomes.py [--sizes 300,1000,5000] [--seeds 5] [--latency-runs 500]

The history: leads oldest first, each with source, owner, country, industry, value (log-normal money), activity
count, emails sent (mostly the activities again: two fields that say the same thing, which a naive Bayes counts
twice), days in the current stage and whether a discount was asked (often missing). The true log-odds of a win:
source, smaller deals, more activities, fewer days in stage, one strong owner, and an interaction a per-field model
cannot see (referrals convert big deals too); the win rate drifts down slowly over time, so the newest leads (the
holdout) are a little unlike the older ones, as in a real pipeline. Each row's true probability is known, so the
best AUC any model could reach on the holdout ("oracle") is printed beside the two models'.

For each size and seed: train() (chooses, calibrates, refits) and reads its holdout figures; the mean and spread
over seeds are printed, then the p50/p95 of single-lead predict_stored calls (model parsed once, as in a worker).
The holdout figure of the chosen model is the best of eight candidates on that same holdout, so it flatters it a
little; the "future" columns score the final models (the chosen one refitted on every lead, and the naive Bayes
refitted likewise) on the 1,000 leads that come next in the same history, which neither has seen.
Nothing is kept.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from ai.providers.local import outcomes  # noqa: E402

FUTURE = 1000

SOURCES = {"referral": 1.3, "partner": 0.6, "event": 0.2, "website": -0.1, "ads": -0.5, "cold call": -1.2}
OWNERS = {"ana": 0.7, "ben": 0.0, "chloe": 0.0, "dev": -0.2, "eli": -0.3}
INDUSTRIES = ["software", "retail", "health", "finance", "logistics", "education", "energy", "media"]


def history(n: int, seed: int) -> tuple[list[dict], list[bool], list[float]]:
    rng = random.Random(seed)
    rows, won, truth = [], [], []
    for i in range(n):
        source = rng.choices(list(SOURCES), weights=[2, 2, 1, 5, 3, 3])[0]
        owner = rng.choice(list(OWNERS))
        value = round(math.exp(rng.gauss(9.3, 1.1)), -2)
        activities = min(25, int(rng.expovariate(1 / 5)))
        emails = max(0, activities + int(rng.gauss(0, 1.5)))
        days = int(rng.expovariate(1 / 25))
        discount = rng.choice(["yes", "no"]) if rng.random() < 0.4 else None
        size = math.log1p(value) - 9.3
        z = (
            -0.6
            + SOURCES[source]
            + OWNERS[owner]
            - (0.1 if source == "referral" else 0.55) * size
            + 0.12 * (activities - 5)
            - 0.025 * (days - 25)
            + (0.3 if discount == "yes" else 0.0)
            - 0.4 * i / n  # the market gets harder: the newest leads convert a little less
        )
        probability = 1 / (1 + math.exp(-z))
        rows.append(
            {
                "source": source,
                "owner": owner,
                "country": rng.choice(["FR", "DE", "US", "UK", "ES"]),
                "industry": rng.choice(INDUSTRIES),
                "value": value,
                "activities": activities,
                "emails_sent": emails,
                "days_in_stage": days,
                "discount_asked": discount,
            }
        )
        won.append(rng.random() < probability)
        truth.append(probability)
    return rows, won, truth


def _chosen(params: dict) -> str:
    regularisation = "" if params.get("C") is None else f" C={params['C']:g}"
    weighted = " balanced" if params.get("class_weight") else ""
    return f"{params['model']}{regularisation}{weighted}/{params['calibration']}"


def run_size(n: int, seeds: int, latency_runs: int) -> dict:
    keys = ("auc", "anchor", "oracle", "brier", "base", "seconds", "future", "future_anchor", "future_oracle")
    figures: dict[str, list[float]] = {key: [] for key in keys}
    chosen: list[str] = []
    model_bytes, rows = b"", []
    for seed in range(seeds):
        every, outcomes_all, truths = history(n + FUTURE, seed)
        rows, won, truth = every[:n], outcomes_all[:n], truths[:n]
        later, later_won = every[n:], outcomes_all[n:]
        started = time.perf_counter()
        result = outcomes.train(rows, won, names=("won", "lost"))
        figures["seconds"].append(time.perf_counter() - started)
        start = result.holdout_start
        figures["auc"].append(result.evaluation["auc"])
        figures["anchor"].append(result.evaluation["anchor"]["auc"])
        figures["oracle"].append(roc_auc_score(won[start:], truth[start:]))
        figures["brier"].append(result.evaluation["brier"])
        figures["base"].append(result.baseline["brier"])
        chosen.append(_chosen(result.params))
        model_bytes = result.model_bytes
        figures["future"].append(outcomes.evaluate(model_bytes, later, later_won)["auc"])
        anchor = outcomes._fit_naive_bayes(rows, np.asarray(won, dtype=int))
        figures["future_anchor"].append(roc_auc_score(later_won, anchor.log_odds(later)))
        figures["future_oracle"].append(roc_auc_score(later_won, truths[n:]))
    latencies, cpu = [], []
    for i in range(latency_runs):
        row = rows[i % len(rows)]
        started, started_cpu = time.perf_counter(), time.thread_time()
        outcomes.predict_stored(("bench", n), lambda: model_bytes, [row])
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    latencies.sort()
    cpu.sort()
    return {
        "n": n,
        "holdout": result.evaluation["holdout_size"],
        **{key: (statistics.mean(values), statistics.pstdev(values)) for key, values in figures.items()},
        "chosen": ", ".join(f"{name} ×{count}" for name, count in Counter(chosen).most_common()),
        "p50": latencies[len(latencies) // 2],
        "p95": latencies[int(len(latencies) * 0.95) - 1],
        "cpu_p95": cpu[int(len(cpu) * 0.95) - 1],
        "size_kb": len(model_bytes) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="300,1000,5000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--latency-runs", type=int, default=500)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        "leads | holdout | AUC chosen | AUC naive Bayes | AUC oracle | future: chosen / naive Bayes / oracle | "
        "Brier (base rate) | train s | "
        "predict p50/p95 ms (CPU p95) | model KB | chosen"
    )
    for n in (int(size) for size in args.sizes.split(",")):
        r = run_size(n, args.seeds, args.latency_runs)
        print(
            f"{r['n']:,} | {r['holdout']} | {r['auc'][0]:.3f} ±{r['auc'][1]:.3f} | {r['anchor'][0]:.3f} "
            f"±{r['anchor'][1]:.3f} | {r['oracle'][0]:.3f} | {r['future'][0]:.3f} / {r['future_anchor'][0]:.3f} / "
            f"{r['future_oracle'][0]:.3f} | {r['brier'][0]:.3f} ({r['base'][0]:.3f}) | "
            f"{r['seconds'][0]:.2f} | {r['p50']:.2f} / {r['p95']:.2f} ({r['cpu_p95']:.2f}) | "
            f"{r['size_kb']:.1f} | {r['chosen']}",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
