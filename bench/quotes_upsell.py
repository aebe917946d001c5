"""Upsell suggestions: precision@3 on the newest 20% of a demo history, association rules vs most popular.

The history comes from `quotes.recommend.demo_baskets` (bundles of four products with companions taken 85%,
60% and 30% of the time, Zipf-popular bundles, a second bundle in 30% of quotes, 0–2 random products as noise).
Rules are mined on the oldest 80%; each newer quote is cut in two at random, the first half is what the seller
has, and a suggestion is a hit when it is in the other half. Also times mining and one suggestion call.
No database or server needed:
    .venv/bin/python bench/quotes_upsell.py [--products 26] [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quotes.recommend import (
    association_rules,
    demo_baskets,
    holdout_precision,
    popular_products,
    upsell_suggestions,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=26)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    products = [f"P{i:03d}" for i in range(args.products)]

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.products} products, precision@3 averaged over {args.seeds} seeds (held-out: newest 20%)")
    print(f"{'accepted quotes':>16} {'rules':>7} {'popular':>8} {'held-out':>9}")
    for size in (100, 300, 1000, 3000):
        scores = [holdout_precision(demo_baskets(products, size, seed), k=3, seed=seed) for seed in range(args.seeds)]
        rules = statistics.mean(s.rules for s in scores)
        popular = statistics.mean(s.popular for s in scores)
        print(f"{size:>16} {rules:>7.3f} {popular:>8.3f} {scores[0].baskets:>9}")

    baskets = demo_baskets(products, 3000, seed=0)
    started = time.perf_counter()
    rules = association_rules(baskets)
    mined = time.perf_counter() - started
    popular = popular_products(baskets)
    started = time.perf_counter()
    for basket in baskets[:1000]:
        upsell_suggestions(basket[:2], rules, 3, popular=popular)
    per_call = (time.perf_counter() - started) / 1000
    print(
        f"mining 3,000 quotes: {mined * 1000:.0f} ms, {len(rules)} rules; one suggestion call: {per_call * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()
