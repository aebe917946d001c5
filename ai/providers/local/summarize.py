"""Extractive summaries and keywords: sentences are chosen from the text and kept word for word, in order.

Each sentence is scored by the cosine between its vector and the document's centroid (the mean of all its word
piece vectors), plus a small bonus for coming early (tickets state the problem first), minus penalties for
greetings, sign-offs and fragments. A candidate too similar (cosine > 0.92) to one already chosen is skipped.
Sentence vectors are pooled from the one forward pass the document already had (`document_states`), so a
summary costs no second pass over the text. Keywords come from YAKE (statistical, no model, no network).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from .text import normalise_space, sentence_spans

POSITION_BONUS = 0.08
BOILERPLATE_PENALTY = 0.5
FRAGMENT_PENALTY = 0.15
REDUNDANCY_LIMIT = 0.92
KEYWORDS = 6
_YAKE_LANGUAGES = {"en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "no", "fi", "pl"}

_BOILERPLATE = re.compile(
    r"^(?:(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|greetings|hallo|bonjour|hola)\b[^.!?]{0,40}[,!.:]?$"
    r"|(?:many\s+)?(?:thanks?|thx|ty|tia)\b.{0,40}$|thank\s+you\b.{0,60}$|(?:best|kind|warm)?\s*regards\b.*$|cheers\b.*$"
    r"|best\b,?.{0,30}$|sent\s+from\s+my\b.*$|--+.*$)",
    re.IGNORECASE,
)


def is_boilerplate(sentence: str) -> bool:
    """Greetings, thanks and sign-offs: never the point of a ticket."""
    return bool(_BOILERPLATE.match(sentence.strip()))


def sentence_vectors(text: str, token_states: np.ndarray, offsets: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each sentence with the unit-length mean of the word pieces inside its character span."""
    spans = sentence_spans(text)
    sentences = [normalise_space(text[start:end]) for start, end in spans]
    real = offsets[:, 1] > offsets[:, 0]  # [CLS]/[SEP] have empty spans
    vectors = np.zeros((len(spans), token_states.shape[1]), dtype=np.float32)
    for i, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if inside.any():
            vectors[i] = token_states[inside].mean(axis=0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return sentences, vectors / np.maximum(norms, 1e-12)


def rank_sentences(sentences: list[str], vectors: np.ndarray, token_states: np.ndarray) -> list[float]:
    centroid = token_states.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    similarity = vectors @ centroid
    count = len(sentences)
    scores = []
    for i, sentence in enumerate(sentences):
        score = float(similarity[i]) + POSITION_BONUS * (1 - i / max(count, 1))
        if is_boilerplate(sentence):
            score -= BOILERPLATE_PENALTY
        if len(sentence.split()) < 4:
            score -= FRAGMENT_PENALTY
        scores.append(score)
    return scores


def select_sentences(sentences: list[str], vectors: np.ndarray, scores: list[float], limit: int) -> list[int]:
    """Indices of up to `limit` best sentences, redundant ones skipped, returned in document order."""
    chosen: list[int] = []
    for index in sorted(range(len(sentences)), key=lambda i: -scores[i]):
        if len(chosen) == limit:
            break
        if any(float(vectors[index] @ vectors[other]) > REDUNDANCY_LIMIT for other in chosen):
            continue
        chosen.append(index)
    return sorted(chosen)


def extractive_summary(text: str, token_states: np.ndarray, offsets: np.ndarray, max_sentences: int) -> str:
    sentences, vectors = sentence_vectors(text, token_states, offsets)
    if not sentences:
        return ""
    content = [i for i, s in enumerate(sentences) if not is_boilerplate(s)] or list(range(len(sentences)))
    if len(content) <= max_sentences:
        return " ".join(sentences[i] for i in content)
    scores = rank_sentences(sentences, vectors, token_states)
    return " ".join(sentences[i] for i in select_sentences(sentences, vectors, scores, max_sentences))


@cache
def _keyword_extractor(language: str):  # -> yake.KeywordExtractor
    import yake  # imports networkx: ~0.6 s, paid on the first summary rather than at import

    return yake.KeywordExtractor(lan=language, n=2, dedup_lim=0.7, top=KEYWORDS * 2)


def keywords(text: str, language: str = "en", limit: int = KEYWORDS) -> tuple[str, ...]:
    """Up to `limit` key phrases, most salient first, as they appear in the text (case kept)."""
    extractor = _keyword_extractor(language if language in _YAKE_LANGUAGES else "en")
    found: list[str] = []
    for phrase, _score in extractor.extract_keywords(text or ""):
        lowered = phrase.lower()
        # Skip numbers and phrases already covered ("CSV" after "CSV export").
        if re.fullmatch(r"[\d\W_]+", phrase) or any(
            lowered in f.lower().split() or lowered == f.lower() for f in found
        ):
            continue
        found.append(phrase)
        if len(found) == limit:
            break
    return tuple(found)
