"""Ticket triage: the product's trainable category classifier on 47,837 real IT service tickets (8 topics).

Run by hand (no database needed):
    .venv/bin/python bench/ai_triage.py [--sizes 500,2000,8000,42837] [--skip-zero-shot] [--latency-runs 300]
                                          [--order split|rows]

Reads ../shared/data/it-service-tickets/ beside the project root (its README.md describes the fixed split and the
reference figures). For each training size, in a fresh process (so peak RSS is that size's own), it trains through
ai.providers.local.training.train on the training tickets in arrival order (below), scores the 5,000
test tickets with training.evaluate, and times single-ticket training.predict calls. Prints accuracy and macro-F1
next to the reference figures, the holdout accuracy an admin is shown, the accuracy on the test tickets from the
holdout's period ("late"), coverage and answered accuracy at the model's abstain threshold, training time (wall
and CPU), prediction p50/p95, peak RSS and the model's size; then zero-shot accuracy with the 8 label names and
one-line descriptions (the local provider's classify, as a workspace with no labelled tickets gets).
Nothing trained here is kept.

Arrival order (the product takes its holdout from the newest tickets): the tickets carry no dates, and the data
set's README defines the training sets as nested prefixes of a fixed random order. By default that is the order:
train_500 first, then what train_2000 adds, and so on, each addition in a random order (seed 0); the split file
lists each set by row id, which is not that order. `--order rows` takes the file's row order as "oldest first"
instead: a stress case, since the rows drift (the last fifth is 46 % Hardware against 21 % before), which the
randomly drawn test tickets do not.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

SIZES = (500, 2000, 8000, 42837)
# Reference figures from the data set's README (accuracy, macro-F1) on the same split.
REFERENCE = {
    500: ("TF-IDF+MiniLM+LR", 0.718, 0.673),
    2000: ("TF-IDF+MiniLM+LR", 0.794, 0.789),
    8000: ("TF-IDF+MiniLM+LR", 0.831, 0.834),
    42837: ("TF-IDF+LR", 0.871, 0.867),
}
DESCRIPTIONS = {
    "Hardware": "laptops, monitors, printers, docking stations, keyboards and other broken or missing equipment",
    "HR Support": "employees, contracts, payroll, leave, hiring, onboarding and leavers",
    "Access": "access requests, permissions, accounts, passwords, logins and group membership",
    "Miscellaneous": "general questions and requests that fit no other category",
    "Storage": "disk space, shared drives, mailbox size, folders and file storage quotas",
    "Purchase": "orders, purchase requests, quotes, invoices and buying licences or equipment",
    "Internal Project": "internal projects, project plans, meetings, timelines and project resources",
    "Administrative rights": "local admin rights, installing software, elevated privileges on a computer",
}


def data_dir() -> Path:
    for base in (ROOT.parent, *ROOT.parents):
        candidate = base / "shared" / "data" / "it-service-tickets"
        if (candidate / "tickets.csv.gz").exists():
            return candidate
    sys.exit(
        f"The IT service tickets are not there: expected {ROOT.parent / 'shared/data/it-service-tickets'}/ with "
        "tickets.csv.gz and split.json (see the data set's README.md). Nothing to benchmark."
    )


def load() -> tuple[list[str], list[str], dict]:
    directory = data_dir()
    with gzip.open(directory / "tickets.csv.gz", "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    split = json.loads((directory / "split.json").read_text())
    return [r["Document"] for r in rows], [r["Topic_group"] for r in rows], split


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def arrival_order(split: dict, size: int) -> list[int]:
    """The training rows of `train_<size>` as the README's nested random order gives them (see the docstring)."""
    order: list[int] = []
    seen: set[int] = set()
    shuffle = random.Random(0).shuffle
    for step in (s for s in SIZES if s <= size):
        added = [row for row in split[f"train_{step}"] if row not in seen]
        shuffle(added)
        order += added
        seen.update(added)
    return order


def one_size(size: int, latency_runs: int, order: str) -> dict:
    """Train on `train_<size>`, score the test set, time single predictions; runs in its own process."""
    from ai.providers.local import training

    texts, labels, split = load()
    test_ids = split["test"]
    train_ids = split[f"train_{size}"] if order == "rows" else arrival_order(split, size)
    test_texts, test_labels = [texts[i] for i in test_ids], [labels[i] for i in test_ids]
    started, cpu = time.perf_counter(), time.process_time()
    result = training.train([texts[i] for i in train_ids], [labels[i] for i in train_ids])
    train_seconds, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    test = training.evaluate(result.model_bytes, test_texts, test_labels)
    # The holdout is the newest fifth of the training rows, and this data drifts along its row order (the last
    # rows are ~46 % Hardware against ~21 % before, and harder): compare it with the test rows of the same period.
    first_holdout_row = train_ids[result.holdout_start]
    late = [k for k, i in enumerate(test_ids) if i >= first_holdout_row] if order == "rows" else []
    late_test = training.evaluate(result.model_bytes, [test_texts[k] for k in late], [test_labels[k] for k in late])
    latencies, cpu_times = [], []
    for text in test_texts[:latency_runs]:  # each ticket once: the provider's document cache never answers
        begun, begun_cpu = time.perf_counter(), time.process_time()
        training.predict(result.model_bytes, [text])
        latencies.append((time.perf_counter() - begun) * 1000)
        cpu_times.append((time.process_time() - begun_cpu) * 1000)
    return {
        "size": size,
        "params": result.params,
        "holdout": result.evaluation.as_dict(),
        "holdout_baseline": result.baseline.accuracy,
        "abstain_below": result.abstain_below,
        "test": test.as_dict(),
        "late_test_accuracy": late_test.accuracy,
        "late_test_size": late_test.holdout_size,
        "train_seconds": train_seconds,
        "train_cpu": train_cpu,
        "predict_p50": float(np.percentile(latencies[5:], 50)),
        "predict_p95": float(np.percentile(latencies[5:], 95)),
        "predict_cpu_p95": float(np.percentile(cpu_times[5:], 95)),
        "peak_rss_mb": peak_rss_mb(),
        "model_kb": len(result.model_bytes) / 1024,
    }


def zero_shot() -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    from ai.providers.local import get_local_provider

    texts, labels, split = load()
    provider = get_local_provider()
    test = split["test"]
    predicted = [provider.classify(texts[i], DESCRIPTIONS)[0] for i in test]
    gold = [labels[i] for i in test]
    return accuracy_score(gold, predicted), f1_score(gold, predicted, average="macro")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated training sizes")
    parser.add_argument("--latency-runs", type=int, default=300, help="single-ticket predictions timed per size")
    parser.add_argument("--skip-zero-shot", action="store_true")
    parser.add_argument(
        "--order", choices=("split", "rows"), default="split", help="arrival order of the training tickets (docstring)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size, JSON on stdout
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.latency_runs, args.order)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    unknown = sorted(set(sizes) - set(SIZES))
    if unknown:
        sys.exit(f"Unknown training size(s) {unknown}: the split has {', '.join(map(str, SIZES))}.")
    data_dir()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  ({os.cpu_count()} cores)")
    print(f"arrival order: {args.order}")
    print(
        f"{'train':>6} {'accuracy':>8} {'ref':>5} {'macro-F1':>8} {'ref':>5}  {'holdout':>7} {'late':>5} "
        f"{'coverage':>8} {'answered':>8} {'abstain<':>8} {'train s':>7} {'cpu s':>6} {'p50 ms':>6} {'p95 ms':>6} "
        f"{'RSS MB':>6} {'model KB':>8}  selected"
    )
    previous = 0.0
    for size in sizes:
        command = [sys.executable, __file__, "--one", str(size), "--latency-runs", str(args.latency_runs)]
        command += ["--order", args.order]
        out = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        test, holdout = out["test"], out["holdout"]
        _, ref_accuracy, ref_f1 = REFERENCE[size]
        late = f"{out['late_test_accuracy']:.3f}" if out["late_test_size"] else "-"
        params = {k: v for k, v in out["params"].items()}
        print(
            f"{size:>6} {test['accuracy']:>8.3f} {ref_accuracy:>5.3f} {test['macro_f1']:>8.3f} {ref_f1:>5.3f}  "
            f"{holdout['accuracy']:>7.3f} {late:>5} {test['coverage']:>8.3f} "
            f"{test['answered_accuracy']:>8.3f} "
            f"{out['abstain_below']:>8.2f} {out['train_seconds']:>7.1f} {out['train_cpu']:>6.1f} "
            f"{out['predict_p50']:>6.1f} {out['predict_p95']:>6.1f} {out['peak_rss_mb']:>6.0f} "
            f"{out['model_kb']:>8.0f}  {json.dumps(params)}",
            flush=True,
        )
        for name, figure in (("all", test["accuracy"]), ("late", out["late_test_accuracy"]))[: 1 + (late != "-")]:
            gap = holdout["accuracy"] - figure
            if abs(gap) > 0.02:
                print(f"       ! holdout accuracy is {gap:+.3f} from the {name} test tickets' accuracy")
        if test["accuracy"] < previous:
            print(f"       ! accuracy fell from {previous:.3f} as the training set grew")
        previous = max(previous, test["accuracy"])
    if not args.skip_zero_shot:
        accuracy, macro_f1 = zero_shot()
        print(f"zero-shot (8 label names + one-line descriptions): accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
