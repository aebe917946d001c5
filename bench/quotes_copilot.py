"""The quote copilot's suggestions: precision@3 of its upsells and cross-sells on the newest 20% of a demo history,
against plain baselines (the most popular products), each averaged over several seeds.

The history is made by quotes.demo's own basket generator (`_basket`: four deal archetypes chosen by the deal's
value, add-ons drawn with fixed conditional probabilities, 15% of quotes with one random product; see that module's
docstring), for deal values drawn from DEAL_VALUES. No database is needed (Django is only set up to import the app).
Oldest 80% of the baskets are the history the rules are mined from; each newer basket of two or more products is
cut in two at random (the first half is what the seller has put in the quote, the rest what the customer went on to
accept), exactly as quotes.recommend.holdout_precision does, and a suggestion is a hit when it is in the rest.
Precision@3 = hits / (3 × held-out quotes): a method that offers fewer than three products is not excused.

Methods:
- cross-sells: quotes.copilot.rank_cross_sells (rules, then popularity, only categories not on the quote);
  baseline: the most popular products of those same categories.
- upsells: quotes.copilot.rank_upsells (rules, then popularity, only the quote's categories and dearer than what the
  quote has there; the builder adds catalog similarity, left out here: it needs the embedding model); baseline: the
  most popular products passing the same filter.
- all: quotes.recommend.holdout_precision (rules across every category, against the most popular products).
    .venv/bin/python bench/quotes_copilot.py [--quotes 600] [--seeds 5]

Measured (600 quotes, 5 seeds, 114 held-out quotes each; mean, min–max):
    cross-sells   copilot 0.417 (0.399–0.440)   most popular 0.264 (0.242–0.321)
    upsells       copilot 0.101 (0.075–0.122)   most popular 0.067 (0.055–0.088)   2.43 offered per quote
    all (rules)   copilot 0.521 (0.500–0.550)   most popular 0.262 (0.218–0.312)
Upsells are low for both: a demo quote takes one seat type, so a dearer product of a category already on the
quote is rarely what the customer went on to accept; cross-sells carry the demo's co-purchase patterns.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from quotes import copilot, demo, recommend  # noqa: E402

K = 3
DEAL_VALUES = (2_000, 4_000, 6_000, 12_000, 25_000, 40_000, 80_000)  # drawn uniformly per quote


@dataclass(frozen=True)
class Precision:
    method: float
    baseline: float
    shown: float  # suggestions the method offered per quote (out of K)
    quotes: int


def demo_history(quotes: int, seed: int) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    return [tuple(sku for sku, _ in demo._basket(rng, Decimal(rng.choice(DEAL_VALUES)))) for _ in range(quotes)]


def _catalog() -> tuple[dict[str, str], dict[str, Decimal]]:
    category = {sku: group for sku, _, group, *_ in demo.CATALOG if sku not in demo.INACTIVE}
    price = {sku: Decimal(row[4]) for row in demo.CATALOG for sku in [row[0]] if sku not in demo.INACTIVE}
    return category, price


def _split(baskets: Sequence[Sequence[str]], seed: int) -> tuple[list, list[tuple[list[str], set[str]]]]:
    cut = round(len(baskets) * 0.8)
    rng = random.Random(seed)
    held_out = []
    for basket in baskets[cut:]:
        items = list(dict.fromkeys(basket))
        if len(items) < 2:
            continue
        rng.shuffle(items)
        half = max(1, len(items) // 2)
        held_out.append((items[:half], set(items[half:])))
    return list(baskets[:cut]), held_out


def evaluate(
    baskets: Sequence[Sequence[str]],
    seed: int,
    method: Callable[..., list[recommend.Suggestion]],
    keep: Callable[[set[str], str], bool],
) -> Precision:
    """`method(shown, rules, popular)` against the most popular products that `keep(shown, product)` allows."""
    train, held_out = _split(baskets, seed)
    rules, popular = recommend.association_rules(train), recommend.popular_products(train)
    hits = base_hits = offered = 0
    for shown, hidden in held_out:
        suggested = method(shown, rules, popular)
        offered += len(suggested)
        hits += sum(s.product in hidden for s in suggested)
        baseline = [p for p, _ in popular if p not in shown and keep(set(shown), p)][:K]
        base_hits += sum(p in hidden for p in baseline)
    scored = len(held_out) * K or 1
    return Precision(hits / scored, base_hits / scored, offered / (len(held_out) or 1), len(held_out))


def copilot_precision(quotes: int = 600, seed: int = 0) -> dict[str, Precision]:
    """Precision@3 of the copilot's cross-sells, upsells and of the plain rules, each with its baseline."""
    category, price = _catalog()
    baskets = demo_history(quotes, seed)

    def other_category(shown: set[str], product: str) -> bool:
        return product in category and category[product] not in {category.get(p) for p in shown}

    def dearer_same_category(shown: set[str], product: str) -> bool:
        top = {}
        for p in shown:
            if p in category:
                top[category[p]] = max(top.get(category[p], Decimal(0)), price[p])
        return category.get(product) in top and price[product] > top[category[product]]

    cross = evaluate(baskets, seed, lambda s, r, p: copilot.rank_cross_sells(s, r, p, category, k=K), other_category)
    up = evaluate(
        baskets, seed, lambda s, r, p: copilot.rank_upsells(s, r, p, category, price, k=K), dearer_same_category
    )
    plain = recommend.holdout_precision(baskets, k=K, seed=seed)
    return {
        "cross-sells": cross,
        "upsells": up,
        "all (rules)": Precision(plain.rules, plain.popular, float(K), plain.baskets),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    runs = [copilot_precision(args.quotes, seed) for seed in range(args.seeds)]
    print(f"{args.quotes} demo quotes, precision@{K} on the newest 20%, mean of {args.seeds} seeds (min–max)")
    print(f"{'':14} {'copilot':>18} {'most popular':>18} {'offered/quote':>14} {'held-out':>9}")
    for name in runs[0]:
        method = [run[name].method for run in runs]
        baseline = [run[name].baseline for run in runs]
        shown = statistics.mean(run[name].shown for run in runs)
        print(
            f"{name:14} {statistics.mean(method):>6.3f} ({min(method):.3f}–{max(method):.3f})"
            f" {statistics.mean(baseline):>6.3f} ({min(baseline):.3f}–{max(baseline):.3f})"
            f" {shown:>14.2f} {runs[0][name].quotes:>9}"
        )


if __name__ == "__main__":
    main()
