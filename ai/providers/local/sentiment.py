"""Sentiment with VADER: a lexicon and rules tuned on English social-media text (no model, no network).

English only: VADER's lexicon has almost no non-English words, so a German complaint scores near 0 ("neutral").
Greetings and sign-offs are left out before scoring. The label uses VADER's own recommended thresholds on the
compound score: ≥ 0.05 positive, ≤ -0.05 negative.
"""

from __future__ import annotations

from functools import cache

from .summarize import is_boilerplate
from .text import split_sentences

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


@cache
def analyzer():  # -> vaderSentiment.SentimentIntensityAnalyzer; imported and its lexicon read on first use
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score_sentiment(text: str) -> tuple[str, float]:
    """("positive" | "neutral" | "negative", compound score in -1..1)."""
    # "Thanks, Maria" and "Hi team" are politeness, not sentiment: an angry ticket that ends in thanks is angry.
    sentences = split_sentences(text or "")
    content = " ".join(s for s in sentences if not is_boilerplate(s)) or " ".join(sentences)
    compound = float(analyzer().polarity_scores(content)["compound"])
    if compound >= POSITIVE_THRESHOLD:
        return "positive", compound
    if compound <= NEGATIVE_THRESHOLD:
        return "negative", compound
    return "neutral", compound
