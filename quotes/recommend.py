"""Upsell and cross-sell suggestions for a quote from the workspace's own accepted quotes, with their reasons.

Three sources, used in this order to fill `k` slots:
1. Association rules mined from baskets (the product sets of accepted quotes): "customers who took A (and B)
   also took C", with support, confidence and lift. Only rules with lift above 1 are used: C must be likelier
   with A than without it, not merely popular.
2. Catalog similarity: products whose text embedding is close to something in the basket. The caller passes
   the vectors (from `ai.facade`), so this module imports no AI code.
3. Popularity: what most accepted quotes contain, for a new workspace or a basket the history knows nothing of.

`demo_baskets` makes a history with known co-purchase patterns for demo data, and `holdout_precision` measures
how well the rules recover them on a later, held-out slice. Pure functions over product keys (ids or SKUs):
no database, so the caller decides which quotes count and how products are named.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

Product = Hashable


@dataclass(frozen=True)
class Rule:
    """`antecedent` → `consequent`, mined from `baskets` baskets."""

    antecedent: frozenset[Product]
    consequent: Product
    count: int  # baskets holding the antecedent and the consequent
    antecedent_count: int  # baskets holding the antecedent
    support: float  # count / baskets
    confidence: float  # count / antecedent_count: P(consequent | antecedent)
    lift: float  # confidence / P(consequent): how much likelier than in any basket


@dataclass(frozen=True)
class Suggestion:
    product: Product
    source: str  # "rules", "similar" or "popular"
    score: float  # confidence, cosine similarity or share of baskets: comparable within one source only
    reason: str  # shown to the user as is
    because: tuple[Product, ...] = ()  # the basket's products that led here
    rule: Rule | None = None


def association_rules(
    baskets: Iterable[Iterable[Product]],
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.2,
    min_count: int = 3,
    min_lift: float = 1.0,
    max_antecedent: int = 2,
) -> tuple[Rule, ...]:
    """Rules with up to `max_antecedent` products on the left and one on the right (Apriori counting).

    An itemset is frequent when it is in at least `min_support` of the baskets and in at least `min_count` of
    them: a small workspace's 2-out-of-5 is not a pattern. Sorted by confidence, then lift, then support.
    """
    sets = [frozenset(basket) for basket in baskets]
    total = len(sets)
    if not total:
        return ()
    needed = max(min_count, math.ceil(min_support * total))
    item_counts = Counter(item for basket in sets for item in basket)
    counts: dict[frozenset[Product], int] = {
        frozenset([item]): count for item, count in item_counts.items() if count >= needed
    }
    previous = dict(counts)
    for size in range(2, max_antecedent + 2):
        previous = _frequent_itemsets(sets, previous, size, needed)
        counts.update(previous)
        if not previous:
            break
    rules = []
    for itemset, count in counts.items():
        for consequent in itemset if len(itemset) > 1 else ():
            antecedent = itemset - {consequent}
            confidence = count / counts[antecedent]
            lift = confidence / (item_counts[consequent] / total)
            if confidence >= min_confidence and lift > min_lift:
                rules.append(Rule(antecedent, consequent, count, counts[antecedent], count / total, confidence, lift))
    return tuple(sorted(rules, key=lambda r: (-r.confidence, -r.lift, -r.support, repr(r.consequent))))


def _frequent_itemsets(
    sets: list[frozenset[Product]], previous: dict[frozenset[Product], int], size: int, needed: int
) -> dict[frozenset[Product], int]:
    """Itemsets of `size` in at least `needed` baskets, counting only those whose every subset is frequent."""
    items = {item for itemset in previous for item in itemset}
    counter: Counter[frozenset[Product]] = Counter()
    for basket in sets:
        present = sorted((item for item in basket if item in items), key=repr)
        for combo in combinations(present, size):
            candidate = frozenset(combo)
            if all(candidate - {item} in previous for item in candidate):
                counter[candidate] += 1
    return {itemset: count for itemset, count in counter.items() if count >= needed}


def popular_products(baskets: Iterable[Iterable[Product]]) -> tuple[tuple[Product, float], ...]:
    """Every product with the share of baskets holding it, most common first."""
    sets = [frozenset(basket) for basket in baskets]
    counts = Counter(item for basket in sets for item in basket)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], repr(pair[0])))
    return tuple((item, count / len(sets)) for item, count in ranked)


def upsell_suggestions(
    basket: Iterable[Product],
    rules: Sequence[Rule],
    k: int = 3,
    *,
    vectors: Mapping[Product, Sequence[float]] | None = None,
    popular: Sequence[tuple[Product, float]] = (),
    names: Mapping[Product, str] | Callable[[Product], str] | None = None,
    exclude: Iterable[Product] = (),
    keep: Callable[[Product], bool] | None = None,
    min_similarity: float = 0.35,
) -> list[Suggestion]:
    """Up to `k` products to offer next to `basket`, each with the reason to show.

    Rules whose antecedent is in the basket come first (best confidence per product); free slots go to the
    catalog products most similar to the basket (when `vectors` are given), then to `popular` ones. Nothing in
    the basket or in `exclude` (declined suggestions, inactive products) is suggested, nor anything `keep`
    refuses: upsells keep the basket's categories (a bigger plan, a longer SLA), cross-sells keep the others.
    """
    have = frozenset(basket)
    skip = set(have) | set(exclude)
    if keep is not None:
        candidates = {r.consequent for r in rules} | set(vectors or ()) | {product for product, _ in popular}
        skip |= {product for product in candidates if not keep(product)}
    name = _namer(names)
    chosen: list[Suggestion] = []
    for rule in rules:
        if len(chosen) == k:
            return chosen
        if rule.consequent in skip or not rule.antecedent <= have:
            continue
        chosen.append(_rule_suggestion(rule, name))
        skip.add(rule.consequent)
    if vectors and len(chosen) < k:
        for suggestion in similar_products(have, vectors, k - len(chosen), names=name, exclude=skip):
            if suggestion.score >= min_similarity:
                chosen.append(suggestion)
                skip.add(suggestion.product)
    for product, share in popular:
        if len(chosen) == k:
            break
        if product not in skip:
            chosen.append(Suggestion(product, "popular", share, f"In {share:.0%} of accepted quotes."))
            skip.add(product)
    return chosen


def similar_products(
    basket: Iterable[Product],
    vectors: Mapping[Product, Sequence[float]],
    k: int,
    *,
    names: Mapping[Product, str] | Callable[[Product], str] | None = None,
    exclude: Iterable[Product] = (),
) -> list[Suggestion]:
    """The `k` catalog products closest (cosine) to any product of `basket` that has a vector."""
    name = _namer(names)
    skip = set(basket) | set(exclude)
    anchors = [item for item in basket if item in vectors]
    candidates = [item for item in vectors if item not in skip]
    if not anchors or not candidates or k <= 0:
        return []
    similarity = _unit_rows([vectors[c] for c in candidates]) @ _unit_rows([vectors[a] for a in anchors]).T
    best_anchor = similarity.argmax(axis=1)
    best = similarity.max(axis=1)
    order = sorted(range(len(candidates)), key=lambda i: (-best[i], repr(candidates[i])))[:k]
    return [
        Suggestion(
            product=candidates[i],
            source="similar",
            score=float(best[i]),
            reason=f"Similar to {name(anchors[best_anchor[i]])} in the catalog.",
            because=(anchors[best_anchor[i]],),
        )
        for i in order
    ]


def _unit_rows(rows: list[Sequence[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _rule_suggestion(rule: Rule, name: Callable[[Product], str]) -> Suggestion:
    because = tuple(sorted(rule.antecedent, key=repr))
    reason = (
        f"In {rule.confidence:.0%} of accepted quotes with {' and '.join(name(p) for p in because)} "
        f"({rule.count} of {rule.antecedent_count}), {rule.lift:.1f}× as often as in all accepted quotes."
    )
    return Suggestion(rule.consequent, "rules", rule.confidence, reason, because, rule)


def _namer(names: Mapping[Product, str] | Callable[[Product], str] | None) -> Callable[[Product], str]:
    if names is None:
        return str
    if callable(names):
        return names
    return lambda product: names.get(product, str(product))


# --- Demo history and its evaluation ---------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A co-purchase pattern: quotes with `anchor` also take each companion with its own probability."""

    anchor: Product
    companions: tuple[tuple[Product, float], ...]


# The shape of every default bundle: its 2nd, 3rd and 4th products go with the 1st this often.
COMPANION_PROBABILITIES = (0.85, 0.6, 0.3)
SECOND_BUNDLE = 0.3  # a quote combines two bundles this often
NOISE = ((0, 0.5), (1, 0.35), (2, 0.15))  # random extra products per quote, drawn from the whole catalog


def default_bundles(products: Sequence[Product]) -> tuple[Bundle, ...]:
    """Consecutive groups of four products: the first is the anchor, the others its companions with
    COMPANION_PROBABILITIES. Leftover products (fewer than four at the end) only appear as noise."""
    return tuple(
        Bundle(
            anchor=products[start],
            companions=tuple(zip(products[start + 1 : start + 4], COMPANION_PROBABILITIES, strict=True)),
        )
        for start in range(0, len(products) - 3, 4)
    )


def demo_baskets(
    products: Sequence[Product], n: int, seed: int = 0, *, bundles: Sequence[Bundle] | None = None
) -> list[tuple[Product, ...]]:
    """`n` baskets of accepted quotes, oldest first, carrying known co-purchase patterns.

    How each basket is made (same `seed`, same baskets):
    - one bundle (default_bundles: groups of four consecutive `products`), chosen with Zipf weights 1, 1/2,
      1/3…, so the first bundles are the best sellers; with probability SECOND_BUNDLE a second, different one;
    - each chosen bundle's anchor, and each companion with its probability (0.85, 0.6, 0.3 by default);
    - noise: 0, 1 or 2 products drawn uniformly from the whole catalog (probabilities 0.5, 0.35, 0.15).
    Products in a basket keep the catalog's order (anchor before its companions), handy for quote lines.
    """
    bundles = tuple(bundles) if bundles is not None else default_bundles(products)
    if not bundles:
        raise ValueError("Demo baskets need at least four products (one bundle).")
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(bundles))]
    position = {product: index for index, product in enumerate(products)}
    baskets = []
    for _ in range(n):
        picked = {rng.choices(range(len(bundles)), weights)[0]}
        if len(bundles) > 1 and rng.random() < SECOND_BUNDLE:
            while len(picked) < 2:
                picked.add(rng.choices(range(len(bundles)), weights)[0])
        items = set()
        for index in sorted(picked):
            bundle = bundles[index]
            items.add(bundle.anchor)
            items.update(product for product, chance in bundle.companions if rng.random() < chance)
        extra = rng.choices([count for count, _ in NOISE], [chance for _, chance in NOISE])[0]
        items.update(rng.sample(list(products), min(extra, len(products))))
        baskets.append(tuple(sorted(items, key=lambda p: position.get(p, len(position)))))
    return baskets


@dataclass(frozen=True)
class HoldoutScore:
    rules: float  # precision@k of upsell_suggestions (rules, then popularity for free slots)
    popular: float  # precision@k of the most popular products alone
    baskets: int  # held-out baskets scored
    k: int


def holdout_precision(
    baskets: Sequence[Iterable[Product]],
    *,
    k: int = 3,
    test_fraction: float = 0.2,
    seed: int = 0,
    **rule_options: Any,
) -> HoldoutScore:
    """Precision@k on the newest `test_fraction` of `baskets` (given oldest first), rules mined on the rest.

    Each held-out basket of two or more products is cut in two at random: the first half (at least one
    product) is what the seller has put in the quote, the rest is what the customer went on to accept. A
    suggestion is a hit when it is in the rest. Both methods fill all k slots, so precision@k is hits / k.
    """
    split = round(len(baskets) * (1 - test_fraction))
    train, test = baskets[:split], [list(b) for b in baskets[split:] if len(set(b)) >= 2]
    rules = association_rules(train, **rule_options)
    popular = popular_products(train)
    rng = random.Random(seed)
    hits_rules = hits_popular = 0
    for basket in test:
        items = list(dict.fromkeys(basket))
        rng.shuffle(items)
        shown, hidden = items[: max(1, len(items) // 2)], set(items[max(1, len(items) // 2) :])
        hits_rules += _hits(upsell_suggestions(shown, rules, k, popular=popular), hidden)
        hits_popular += _hits(upsell_suggestions(shown, (), k, popular=popular), hidden)
    scored = len(test) * k or 1
    return HoldoutScore(hits_rules / scored, hits_popular / scored, len(test), k)


def _hits(suggestions: list[Suggestion], hidden: set[Product]) -> int:
    return sum(suggestion.product in hidden for suggestion in suggestions)
