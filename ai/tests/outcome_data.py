"""Synthetic lead-like history with a known signal, for the outcome model tests: each row's true probability is
known, so a model's held-out AUC can be compared with the best any model could reach on the same rows."""

from __future__ import annotations

import math
import random

SOURCE_EFFECT = {"referral": 1.6, "partner": 0.7, "event": 0.2, "website": -0.2, "cold call": -1.4}


def lead_history(n: int, *, seed: int = 7, signal: bool = True) -> tuple[list[dict], list[bool], list[float]]:
    """(rows oldest first, outcomes, true probabilities). The signal is in source, value (bigger deals are won less
    often) and activities; `country` is noise. Without `signal` the outcome is a coin toss at the same base rate."""
    rng = random.Random(seed)
    rows, outcomes, truth = [], [], []
    for _ in range(n):
        source = rng.choice(list(SOURCE_EFFECT)) if rng.random() > 0.05 else None
        value = round(math.exp(rng.gauss(9.5, 1.0)), -2)
        activities = min(12, int(rng.expovariate(0.25)))
        country = rng.choice(["FR", "DE", "US", "UK"])
        z = -0.3 + SOURCE_EFFECT.get(source or "", 0.0) - 0.5 * (math.log1p(value) - 9.5) + 0.3 * (activities - 4)
        probability = 1 / (1 + math.exp(-z)) if signal else 0.45
        rows.append({"source": source, "value": value, "activities": activities, "country": country})
        outcomes.append(rng.random() < probability)
        truth.append(probability)
    return rows, outcomes, truth
