"""The offline `local` provider: latency, throughput, memory and accuracy on 2 cores.

Run by hand (no database needed):
    .venv/bin/python bench/ai_local.py [--runs 60] [--skip-accuracy]

Prints: model load time and process RSS; embedding latency of a 150-word ticket (p50/p95, wall and CPU time);
each analysis step and the full analysis (embed + language + sentiment + zero-shot classify + summarize) p50/p95;
embeddings per second in batches of 32 (the labelled tickets, ~40 words, and 150-word tickets); zero-shot and
trained accuracy on ai/tests/data/tickets_labelled.jsonl with the splits stated. Every timed text is unique, so
the provider's small per-document cache never answers a timed call. The load average is printed because the
figures move with whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

DATA = ROOT / "ai" / "tests" / "data"
SENTENCES = [
    "Since this morning our agents cannot open tickets from the inbox.",
    "When they click on a ticket the page spins for about thirty seconds and then shows a 502 Bad Gateway error.",
    "We cleared the browser cache and tried Chrome and Firefox on Windows 11, with the same result.",
    "It should open the conversation right away, as it did yesterday.",
    "The problem started right after your maintenance window last night.",
    "This blocks our whole support team of twelve people and customers are waiting for answers.",
    "We are on the Business plan and our workspace is called acme.",
    "Could you please look into it urgently and tell us when it is fixed?",
    "A colleague on a Mac with Safari sees the same spinner.",
    "Replies that were drafted before the problem are still there, but we cannot send them.",
    "Our phone line is now overloaded because customers call instead.",
]


def ticket_of_150_words(seed: int) -> str:
    """A realistic 150-word ticket, different for every seed (so no cache can answer it)."""
    rng = random.Random(seed)
    words: list[str] = [f"Hi team, ticket {seed} here."]
    while sum(len(s.split()) for s in words) < 150:
        words.append(rng.choice(SENTENCES))
    text = " ".join(words).split()[:150]
    return " ".join(text) + f"\nThanks, agent {seed}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def timed(function: Callable[[str], object], texts: list[str]) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for text in texts:
        wall, cpu = time.perf_counter(), time.process_time()
        function(text)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


def report(label: str, walls: list[float], cpus: list[float] | None = None) -> None:
    line = f"{label:<44} p50 {statistics.median(walls):7.1f} ms   p95 {percentile(walls, 95):7.1f} ms"
    if cpus:
        line += f"   (CPU p50 {statistics.median(cpus):6.1f} ms)"
    print(line)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def latency(provider, labels: dict[str, str], runs: int) -> None:
    from ai.providers.local.encoder import MAX_TOKENS

    sample = ticket_of_150_words(0)
    tokens = provider.encoder.count_tokens([sample])
    print(f"\n150-word ticket = {tokens} word pieces (truncation at {MAX_TOKENS}); {runs} unique texts per row")
    seeds = iter(range(1, 100_000))

    def fresh() -> list[str]:
        return [ticket_of_150_words(next(seeds)) for _ in range(runs)]

    report("embed (one text)", *timed(lambda t: provider.embed_array([t]), fresh()))
    report("language", *timed(provider.language, fresh()))
    report("sentiment", *timed(provider.sentiment, fresh()))
    report("zero-shot classify (8 labels, incl. embed)", *timed(lambda t: provider.classify(t, labels), fresh()))
    report("summarize 3 sentences + keywords (incl. embed)", *timed(provider.summarize, fresh()))
    report("moderate", *timed(provider.moderate, fresh()))
    report("rewrite ticket", *timed(lambda t: provider.rewrite(t, style="ticket"), fresh()))

    def full_analysis(text: str) -> None:
        provider.embed_array([text])
        provider.language(text)
        provider.sentiment(text)
        provider.classify(text, labels)
        provider.summarize(text)

    report("FULL analysis (embed+lang+sent+classify+summ)", *timed(full_analysis, fresh()))


def throughput(provider, tickets: list[str]) -> None:
    print("\nEmbeddings per second, batches of 32 (uncached encoder path)")
    sets = {
        f"labelled tickets ({statistics.mean(len(t.split()) for t in tickets):.0f} words avg)": tickets,
        "150-word tickets": [ticket_of_150_words(200_000 + i) for i in range(128)],
    }
    for label, texts in sets.items():
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), 32):
            provider.encoder.encode(texts[start : start + 32])
        seconds = time.perf_counter() - wall
        cpu_seconds = time.process_time() - cpu
        print(
            f"{label:<44} {len(texts) / seconds:7.1f} /s   ({len(texts)} texts in {seconds:.1f} s, "
            f"CPU {cpu_seconds:.1f} s)"
        )


def accuracy(provider, rows: list[dict], labels: dict[str, str]) -> None:
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    from ai.providers.local import training

    texts = [r["text"] for r in rows]
    truth = [r["label"] for r in rows]
    print(f"\nAccuracy on {len(rows)} labelled tickets, {len(labels)} categories (chance {1 / len(labels):.3f})")
    names = list(labels)
    vectors = provider.embed_array(texts)
    prototypes = provider._label_vectors(labels)
    zero_shot = [names[i] for i in (vectors @ prototypes.T).argmax(axis=1)]
    print(f"{'zero-shot (label descriptions, no training)':<52} {np.mean(np.equal(zero_shot, truth)):.3f}")

    def trained(train: list[int], test: list[int]) -> float:
        model = training.train([texts[i] for i in train], [truth[i] for i in train]).model_bytes
        predicted = training.predict(model, [texts[i] for i in test])
        return float(np.mean([p.label == truth[i] for p, i in zip(predicted, test, strict=True)]))

    indices = list(range(len(rows)))
    train, test = train_test_split(indices, test_size=0.3, stratify=truth, random_state=0)
    print(f"{'trained, stratified random 70/30 split (seed 0)':<52} {trained(train, test):.3f}   test n={len(test)}")
    groups = [r["template"] for r in rows]
    train, test = next(GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=0).split(indices, truth, groups))
    held_out = trained(list(train), list(test))
    print(f"{'trained, 70/30 with problem statements held out':<52} {held_out:.3f}   test n={len(test)}")
    result = training.train(texts, truth)  # file order stands in for time order
    print(f"{'trained, newest 20 % held out (what admins see)':<52} {result.evaluation.accuracy:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()

    print(f"cores available: {len(os.sched_getaffinity(0))}; load average at start: {os.getloadavg()}")
    before = rss_mb()
    started = time.perf_counter()
    from ai.providers.local import get_local_provider

    provider = get_local_provider()
    provider.test_connection()  # loads the encoder and lingua
    provider.sentiment("warm up VADER")
    provider.summarize("Warm up YAKE. It has its own start-up cost.")
    print(
        f"models loaded in {time.perf_counter() - started:.2f} s; RSS {before:.0f} MB before, {rss_mb():.0f} MB after"
    )
    print_engine(provider.encoder)

    rows = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]
    labels = json.loads((DATA / "labels.json").read_text())
    latency(provider, labels, args.runs)
    throughput(provider, [r["text"] for r in rows])
    if not args.skip_accuracy:
        accuracy(provider, rows, labels)
    print(f"\nRSS with every local model loaded and used: {rss_mb():.0f} MB (peak {peak_rss_mb():.0f} MB)")
    print(f"load average at end: {os.getloadavg()}")


def print_engine(encoder) -> None:
    """Which runtime and thread settings produced the figures (they move with both)."""
    import onnxruntime

    from ai.providers.local.encoder import MAX_BATCH_TOKENS

    options = encoder.session.get_session_options()
    spinning = options.get_session_config_entry("session.intra_op.allow_spinning")
    print(
        f"encoder: onnxruntime {onnxruntime.__version__}, {options.intra_op_num_threads} intra-op threads, "
        f"spinning {'on' if spinning == '1' else 'off'}, at most {MAX_BATCH_TOKENS} padded word pieces per run"
    )


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


if __name__ == "__main__":
    main()
