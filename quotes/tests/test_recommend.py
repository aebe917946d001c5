"""Upsell suggestions: the rules' figures, the reasons users read, the fallbacks, the demo history's patterns and
precision@3 against the most-popular baseline. Pure functions: no database."""

from __future__ import annotations

from collections import Counter

import pytest

from quotes.recommend import (
    Bundle,
    association_rules,
    default_bundles,
    demo_baskets,
    holdout_precision,
    popular_products,
    similar_products,
    upsell_suggestions,
)

# A and B go together (3 of A's 4 baskets); C and D are common on their own. Ten baskets.
BASKETS = [{"A", "B"}, {"A", "B"}, {"A", "B", "C"}, {"A"}, {"B"}, {"C"}, {"C"}, {"C"}, {"D"}, {"D"}]
PRODUCTS = [f"P{i:02d}" for i in range(26)]


def _rule(rules, antecedent, consequent):
    return next(r for r in rules if r.antecedent == frozenset(antecedent) and r.consequent == consequent)


def test_rule_figures_match_the_hand_computed_support_confidence_and_lift() -> None:
    rules = association_rules(BASKETS, min_support=0.1, min_confidence=0.5, min_count=2)

    rule = _rule(rules, {"A"}, "B")
    assert (rule.count, rule.antecedent_count) == (3, 4)
    assert rule.support == pytest.approx(0.3)
    assert rule.confidence == pytest.approx(0.75)
    assert rule.lift == pytest.approx(0.75 / 0.4)
    # A and C met once: below min_count, no rule either way.
    assert not [r for r in rules if {"A", "C"} <= r.antecedent | {r.consequent}]


def test_rules_below_the_minimum_support_or_confidence_are_dropped() -> None:
    assert association_rules(BASKETS, min_support=0.1, min_confidence=0.5, min_count=4) == ()
    assert association_rules(BASKETS, min_support=0.4, min_confidence=0.5, min_count=1) == ()
    assert association_rules(BASKETS, min_support=0.1, min_confidence=0.8, min_count=2) == ()


def test_a_product_in_every_basket_gives_no_rule_because_its_lift_is_one() -> None:
    baskets = [basket | {"Z"} for basket in BASKETS]

    rules = association_rules(baskets, min_support=0.1, min_confidence=0.5, min_count=2)

    assert all(r.consequent != "Z" for r in rules)
    assert _rule(rules, {"A"}, "B").confidence == pytest.approx(0.75)


def test_two_products_together_can_predict_a_third_neither_predicts_alone() -> None:
    baskets = [{"A", "B", "C"}] * 4 + [{"A"}] * 6 + [{"B"}] * 6 + [{"C"}] * 2

    rules = association_rules(baskets, min_support=0.1, min_confidence=0.9, min_count=3)

    assert [(set(r.antecedent), r.consequent) for r in rules if r.consequent == "C"] == [({"A", "B"}, "C")]
    suggestions = upsell_suggestions({"A", "B"}, rules, k=3)
    assert [s.product for s in suggestions] == ["C"]
    assert suggestions[0].because == ("A", "B")


def test_each_suggestion_says_why_in_words_and_figures() -> None:
    rules = association_rules(BASKETS, min_support=0.1, min_confidence=0.5, min_count=2)

    (suggestion,) = upsell_suggestions({"A"}, rules, k=3, names={"A": "Onboarding workshop"})

    assert suggestion.product == "B" and suggestion.source == "rules"
    assert suggestion.reason == (
        "In 75% of accepted quotes with Onboarding workshop (3 of 4), 1.9× as often as in all accepted quotes."
    )


def test_suggestions_leave_out_the_basket_the_excluded_and_repeats() -> None:
    baskets = demo_baskets(PRODUCTS, 600, seed=3)
    rules = association_rules(baskets)

    suggestions = upsell_suggestions({"P00", "P01"}, rules, k=3, exclude={"P02"}, popular=popular_products(baskets))

    products = [s.product for s in suggestions]
    assert len(products) == len(set(products)) == 3
    assert not {"P00", "P01", "P02"} & set(products)
    assert products[0] == "P03"  # the last companion of P00's bundle, once P01 and P02 are out


def test_catalog_similarity_fills_the_slots_the_rules_leave() -> None:
    vectors = {"A": [1.0, 0.0, 0.0], "A-pro": [0.9, 0.1, 0.0], "B": [0.0, 1.0, 0.0], "Far": [0.0, 0.0, 1.0]}

    suggestions = upsell_suggestions({"A"}, (), k=3, vectors=vectors, names={"A": "Seat"})

    assert [s.product for s in suggestions] == ["A-pro"]  # B and Far are orthogonal: below min_similarity
    assert suggestions[0].source == "similar"
    assert suggestions[0].reason == "Similar to Seat in the catalog."
    assert [s.product for s in similar_products({"A"}, vectors, 3)] == ["A-pro", "B", "Far"]


def test_popular_products_fill_what_rules_and_similarity_leave() -> None:
    popular = popular_products(BASKETS)
    rules = association_rules(BASKETS, min_support=0.1, min_confidence=0.5, min_count=2)

    suggestions = upsell_suggestions({"A"}, rules, k=3, popular=popular)

    assert [(s.product, s.source) for s in suggestions] == [("B", "rules"), ("C", "popular"), ("D", "popular")]
    assert suggestions[1].reason == "In 40% of accepted quotes."


def test_demo_baskets_are_reproducible_and_differ_by_seed() -> None:
    assert demo_baskets(PRODUCTS, 50, seed=7) == demo_baskets(PRODUCTS, 50, seed=7)
    assert demo_baskets(PRODUCTS, 50, seed=7) != demo_baskets(PRODUCTS, 50, seed=8)
    with pytest.raises(ValueError):
        demo_baskets(PRODUCTS[:3], 5)


def test_demo_baskets_carry_the_documented_companion_probabilities() -> None:
    baskets = demo_baskets(PRODUCTS, 3000, seed=11)
    first = default_bundles(PRODUCTS)[0]
    with_anchor = [set(b) for b in baskets if first.anchor in b]

    assert first == Bundle("P00", (("P01", 0.85), ("P02", 0.6), ("P03", 0.3)))
    for companion, chance in first.companions:
        seen = sum(companion in b for b in with_anchor) / len(with_anchor)
        # Noise adds under 0.01 here (0.65 random products per basket out of 26, when the anchor's bundle
        # did not already draw the companion); the rest is sampling error over ~1,500 baskets.
        assert seen == pytest.approx(chance, abs=0.035)
    # Zipf weights: the first bundle's anchor is the most common product.
    assert Counter(p for b in baskets for p in b).most_common(1)[0][0] == "P00"


def test_precision_at_3_on_the_newest_slice_beats_the_most_popular_baseline() -> None:
    score = holdout_precision(demo_baskets(PRODUCTS, 800, seed=1), k=3)

    assert score.baskets > 100
    assert score.rules > score.popular + 0.15


def test_holdout_is_time_ordered_so_the_future_teaches_nothing() -> None:
    old = demo_baskets(PRODUCTS[:12], 400, seed=2)
    new = demo_baskets(PRODUCTS[12:], 100, seed=2)  # products nobody bought before

    score = holdout_precision(old + new, k=3, test_fraction=0.2)

    assert score.rules == score.popular == 0.0


def test_keep_splits_upsells_in_the_baskets_categories_from_cross_sells_outside_them() -> None:
    baskets = demo_baskets(PRODUCTS, 600, seed=3)
    rules, popular = association_rules(baskets), popular_products(baskets)
    category = {product: "plans" if product in {"P00", "P01", "P04"} else "services" for product in PRODUCTS}
    basket = {"P00"}
    inside = {category[p] for p in basket}

    upsells = upsell_suggestions(basket, rules, 3, popular=popular, keep=lambda p: category[p] in inside)
    cross_sells = upsell_suggestions(basket, rules, 3, popular=popular, keep=lambda p: category[p] not in inside)

    assert [s.product for s in upsells] == ["P01", "P04"]  # the only other plans
    assert [s.product for s in cross_sells][:2] == ["P02", "P03"]  # P00's bundle companions outside plans
    assert all(category[s.product] == "services" for s in cross_sells)
