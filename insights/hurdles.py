"""Quote hurdles: why deals are lost. Decline reasons clustered by meaning (local embeddings) and named by their
keywords; loss rates by product and by discount level over the answered quotes; where open leads stall and which
stage lost leads left from; quotes waiting on the customer too long. Counts only, all read from the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.utils import timezone

from ai import facade as ai
from leads import facade as leads
from quotes import facade as quotes

from . import clustering

DAYS = 90
STALL_DAYS = 21
REASON_LINK_DISTANCE = 0.55
DISCOUNT_LEVELS = ((0, 0, "No discount"), (0, 10, "Up to 10 %"), (10, 20, "10–20 %"), (20, 100, "Over 20 %"))


@dataclass(frozen=True)
class LossRate:
    label: str
    lost: int  # declined or expired
    won: int

    @property
    def total(self) -> int:
        return self.lost + self.won

    @property
    def rate(self) -> float:
        return self.lost / self.total if self.total else 0.0


@dataclass(frozen=True)
class ReasonCluster:
    name: str
    keywords: list[str]
    count: int
    examples: list[str]
    quote_ids: list[int]


@dataclass(frozen=True)
class StageFact:
    stage: str
    open: int
    stalled: int  # open and in this stage for STALL_DAYS or more
    lost_from: int  # leads lost (in the period) whose last move was out of this stage


@dataclass(frozen=True)
class QuoteHurdles:
    since: datetime
    reasons: list[ReasonCluster]
    products: list[LossRate]
    discounts: list[LossRate]
    stages: list[StageFact]
    waiting: list  # QuoteBrief: sent or viewed, unanswered for STALL_DAYS or more


def quote_hurdles_detect(*, days: int = DAYS, now: datetime | None = None) -> QuoteHurdles:
    now = now or timezone.now()
    since = now - timedelta(days=days)
    outcomes = quotes.quote_outcomes(since=since)
    return QuoteHurdles(
        since=since,
        reasons=decline_reasons_cluster(outcomes),
        products=_rates(outcomes, lambda outcome: outcome.products or ("No catalog product",)),
        discounts=_rates(outcomes, lambda outcome: (_discount_level(outcome.max_discount),)),
        stages=_stages(leads.lead_stage_facts(since=since, now=now)),
        waiting=quotes.quotes_waiting(sent_before=now - timedelta(days=STALL_DAYS)),
    )


def _discount_level(discount) -> str:
    value = float(discount or 0)
    for low, high, label in DISCOUNT_LEVELS:
        if (value == 0 and high == 0) or low < value <= high:
            return label
    return DISCOUNT_LEVELS[-1][2]


def _rates(outcomes, labels_of) -> list[LossRate]:
    """Loss rate per label (a quote counts once under each of its labels), most lost first."""
    tally: dict[str, list[int]] = {}
    for outcome in outcomes:
        for label in labels_of(outcome):
            counts = tally.setdefault(label, [0, 0])
            counts[0 if outcome.status != "accepted" else 1] += 1
    rates = [LossRate(label, lost, won) for label, (lost, won) in tally.items()]
    return sorted(rates, key=lambda rate: (-rate.lost, -rate.rate, rate.label))


def decline_reasons_cluster(outcomes) -> list[ReasonCluster]:
    """Declined quotes' reasons grouped by meaning (average linkage, cosine distance ≤ 0.55), largest first."""
    from scipy.cluster.hierarchy import fcluster, linkage

    declined = [outcome for outcome in outcomes if outcome.status == "declined" and outcome.decline_reason.strip()]
    if not declined:
        return []
    texts = [outcome.decline_reason.strip() for outcome in declined]
    vectors = np.asarray(ai.embed(texts, feature="insights.hurdles").vectors, dtype=np.float64)
    if len(texts) == 1:
        labels = np.array([1])
    else:
        labels = fcluster(linkage(vectors, method="average", metric="cosine"), REASON_LINK_DISTANCE, "distance")
    clusters = []
    for label in np.unique(labels):
        members = [int(index) for index in np.flatnonzero(labels == label)]
        keywords = clustering.keywords_find(texts, members, limit=4) if len(members) > 1 else []
        examples = list(dict.fromkeys(texts[index] for index in members))[:3]
        clusters.append(
            ReasonCluster(
                (", ".join(keywords[:3]) or examples[0]).capitalize()[:120],
                keywords,
                len(members),
                examples,
                [declined[index].id for index in members],
            )
        )
    return sorted(clusters, key=lambda cluster: (-cluster.count, cluster.name))


def _stages(facts) -> list[StageFact]:
    by_stage: dict[str, list[int]] = {}
    for _, stage, status, days_in_stage, lost_from in facts:
        if status == "open":
            counts = by_stage.setdefault(stage, [0, 0, 0])
            counts[0] += 1
            counts[1] += days_in_stage >= STALL_DAYS
        elif lost_from:
            by_stage.setdefault(lost_from, [0, 0, 0])[2] += 1
    rows = [StageFact(stage, *counts) for stage, counts in by_stage.items()]
    return sorted(rows, key=lambda row: (-(row.stalled + row.lost_from), row.stage))
