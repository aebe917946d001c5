"""Quote hurdles: why deals are lost. Decline reasons clustered by meaning (local embeddings) and named by their
keywords; the clarifying questions the quote copilot raises on the open quotes, grouped the same way; loss rates by
product and by discount level over the answered quotes; where open leads stall and which stage lost leads left from;
quotes waiting on the customer too long. Counts only, all read from the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.utils import timezone

from ai import facade as ai
from leads import facade as leads
from quotes import facade as quotes

from . import clustering

DAYS = 90
STALL_DAYS = 21
REASON_LINK_DISTANCE = 0.55
QUESTION_LINK_DISTANCE = 0.45
EXAMPLES = 5
CACHE_KEY = "insights:quote-hurdles"
CACHE_SECONDS = 300
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

    @property
    def percent(self) -> int:
        return round(100 * self.rate)


@dataclass(frozen=True)
class ReasonCluster:
    """Texts of the same meaning (decline reasons, or clarifying questions) and the quotes they came from."""

    name: str
    keywords: list[str]
    count: int  # quotes
    examples: list[tuple[str, int]]  # (text, how many of the quotes have it), most frequent first
    quotes: list[tuple[int, str]]  # (id, reference), each quote once

    @property
    def quote_ids(self) -> list[int]:
        return [pk for pk, _ in self.quotes]


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
    questions: list[ReasonCluster] = field(default_factory=list)  # the copilot's questions on the open quotes


def quote_hurdles_cached() -> tuple[datetime, QuoteHurdles]:
    """(when computed, the hurdles) for the page: embedding and the copilot's rules take about a second on the demo,
    so a result is kept for CACHE_SECONDS. The key is the workspace's own (django_tenants' make_key prefixes the
    schema), so one workspace never reads another's."""
    cached = cache.get(CACHE_KEY)
    if cached is None:
        now = timezone.now()
        cached = (now, quote_hurdles_detect(now=now))
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return cached


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
        questions=clarifying_questions_cluster(quotes.quote_clarifying_questions(since=since)),
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
    """Declined quotes' reasons grouped by meaning, named by their keywords, most quotes first."""
    items = [
        (outcome.id, outcome.reference, outcome.decline_reason.strip())
        for outcome in outcomes
        if outcome.status == "declined" and outcome.decline_reason.strip()
    ]
    return texts_cluster(items, distance=REASON_LINK_DISTANCE)


def clarifying_questions_cluster(questions) -> list[ReasonCluster]:
    """The copilot's questions (quotes.contracts.QuoteQuestion) grouped by meaning, each group named by its most
    asked question: which come up across many open quotes, most quotes first. The cut is tighter than for reasons:
    the copilot's questions share templates, and "do you also need X?" for two products are two questions."""
    items = [(question.quote.id, question.quote.reference, question.text) for question in questions]
    return texts_cluster(items, distance=QUESTION_LINK_DISTANCE, named_by_keywords=False)


def texts_cluster(
    items: list[tuple[int, str, str]], *, distance: float, named_by_keywords: bool = True
) -> list[ReasonCluster]:
    """(quote id, reference, text) grouped by meaning: average linkage of the texts' local embeddings cut at cosine
    `distance`, each group named by its keywords (else by its most frequent text); most quotes first. Each
    distinct text is embedded once."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if not items:
        return []
    distinct = list(dict.fromkeys(text for _, _, text in items))
    vectors = np.asarray(ai.embed(distinct, feature="insights.hurdles").vectors, dtype=np.float64)
    if len(distinct) == 1:
        labels = np.array([1])
    else:
        labels = fcluster(linkage(vectors, method="average", metric="cosine"), distance, "distance")
    label_of = dict(zip(distinct, labels, strict=True))
    texts = [text for _, _, text in items]
    clusters = []
    for label in np.unique(labels):
        members = [index for index, text in enumerate(texts) if label_of[text] == label]
        quoted = list(dict.fromkeys((items[index][0], items[index][1]) for index in members))
        asked = {text: len({items[i][0] for i in members if texts[i] == text}) for text in {texts[i] for i in members}}
        examples = sorted(asked.items(), key=lambda pair: (-pair[1], pair[0]))[:EXAMPLES]
        keywords = clustering.keywords_find(texts, members, limit=4) if len(asked) > 1 else []
        name = ", ".join(keywords[:3]).capitalize() if named_by_keywords and keywords else examples[0][0]
        clusters.append(ReasonCluster(name[:160], keywords, len(quoted), examples, quoted))
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
