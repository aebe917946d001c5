"""The numeric core of recurring-defect detection, on plain numpy arrays (no database): cluster the recent tickets'
embeddings, measure each cluster against its own baseline, name it from its keywords.

The rule (also in insights.trends.recurring_defects_detect):

1. Recent tickets (opened in the last `recent_days`) are clustered by average linkage on cosine distance, cut at
   LINK_DISTANCE (above MAX_LINKAGE_POINTS tickets, MiniBatchKMeans micro-clusters are linked instead).
2. A cluster of at least MIN_SIZE tickets gets a centroid (the normalised mean). Its volume is counted the same way
   in both periods: the tickets whose cosine similarity to the centroid is at least MEMBER_SIMILARITY, `r` in the
   recent period and `b` in the baseline (the rest of the window).
3. Expected recent volume: λ = (b + ½) · N_recent / N_baseline, the cluster's own share of the baseline applied to
   the recent total (so a busy Monday raises every topic's expectation alike; the ½ keeps a new topic's baseline
   above zero).
4. The cluster spikes when r ≥ MIN_SIZE, r ≥ MIN_LIFT · λ and the Poisson upper tail P(X ≥ r | λ) ≤ P_VALUE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

LINK_DISTANCE = 0.5  # average cosine distance: a cluster's tickets are, on average, at least 0.5 similar
MEMBER_SIMILARITY = 0.6  # MiniLM cosine to the centroid: the same problem told differently
MIN_SIZE = 5
MIN_LIFT = 3.0
P_VALUE = 1e-4
MAX_LINKAGE_POINTS = 4000
BASELINE_PRIOR = 0.5
COUNT_CHUNK = 20_000


@dataclass(frozen=True)
class Spike:
    centroid: np.ndarray
    members: np.ndarray  # indices (into the recent tickets) within MEMBER_SIMILARITY of the centroid
    recent: int
    baseline: int
    expected: float
    p_value: float

    @property
    def lift(self) -> float:
        return self.recent / self.expected if self.expected else float("inf")


def normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.where(norms == 0, 1, norms)


def clusters_find(vectors: np.ndarray) -> list[np.ndarray]:
    """Index arrays of the clusters of at least MIN_SIZE rows (rows are unit vectors)."""
    if len(vectors) < MIN_SIZE:
        return []
    labels = _labels(vectors)
    groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    return [group for group in groups if len(group) >= MIN_SIZE]


def _labels(vectors: np.ndarray) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(vectors) <= MAX_LINKAGE_POINTS:
        tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
        return fcluster(tree, t=LINK_DISTANCE, criterion="distance")
    # Too many for the O(n²) linkage: link micro-cluster centres instead, then map each ticket to its centre's label.
    from sklearn.cluster import MiniBatchKMeans

    micro = MiniBatchKMeans(n_clusters=MAX_LINKAGE_POINTS, random_state=0, n_init=1, batch_size=4096).fit(vectors)
    centres = normalise(micro.cluster_centers_)
    tree = linkage(centres.astype(np.float64), method="average", metric="cosine")
    return fcluster(tree, t=LINK_DISTANCE, criterion="distance")[micro.labels_]


def _counts(vectors: np.ndarray, rows: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """How many of the `rows` (a boolean mask) of `vectors` lie within MEMBER_SIMILARITY of each centroid, a chunk
    at a time: memory stays bounded and the baseline is never copied out of the window's matrix."""
    counts = np.zeros(len(centroids), dtype=np.int64)
    for start in range(0, len(vectors), COUNT_CHUNK):
        chunk = vectors[start : start + COUNT_CHUNK][rows[start : start + COUNT_CHUNK]]
        counts += (chunk @ centroids.T >= MEMBER_SIMILARITY).sum(axis=0)
    return counts


def spikes_find(vectors: np.ndarray, is_recent: np.ndarray) -> list[Spike]:
    """The clusters of the recent rows of `vectors` (unit vectors; `is_recent` a boolean mask, the other rows are
    the baseline) whose volume rose against the baseline by the rule of this module. Spike members index the
    recent rows in their order."""
    from scipy.stats import poisson

    recent = vectors[is_recent]
    baseline_size = int((~is_recent).sum())
    groups = clusters_find(recent)
    if not groups or not baseline_size:
        return []
    centroids = normalise(np.vstack([recent[group].mean(axis=0) for group in groups])).astype(np.float32)
    recent_similarity = recent @ centroids.T
    baseline_counts = _counts(vectors, ~is_recent, centroids)
    scale = len(recent) / baseline_size
    spikes = []
    for index, centroid in enumerate(centroids):
        members = np.flatnonzero(recent_similarity[:, index] >= MEMBER_SIMILARITY)
        count, base = len(members), int(baseline_counts[index])
        expected = (base + BASELINE_PRIOR) * scale
        if count < MIN_SIZE or count < MIN_LIFT * expected:
            continue
        p_value = float(poisson.sf(count - 1, expected))
        if p_value <= P_VALUE:
            order = np.argsort(-recent_similarity[members, index], kind="stable")
            spikes.append(Spike(centroid, members[order], count, base, expected, p_value))
    return spikes


_WORD = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b")


def keywords_find(texts: list[str], cluster: list[int], *, limit: int = 5) -> list[str]:
    """The terms that set `cluster` (indices into `texts`) apart: the highest mean TF-IDF over its texts, with IDF
    from all `texts`; a word already inside a chosen phrase is skipped."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not cluster:
        return []
    vectorizer = TfidfVectorizer(
        stop_words="english", ngram_range=(1, 2), sublinear_tf=True, token_pattern=_WORD.pattern, min_df=1
    )
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # only stop words
        return []
    scores = np.asarray(matrix[cluster].mean(axis=0)).ravel()
    # A term must appear in at least a fifth of the cluster: one ticket's odd word is not the cluster's topic.
    present = np.asarray((matrix[cluster] > 0).sum(axis=0)).ravel()
    scores[present < max(2, len(cluster) / 5)] = 0
    terms = vectorizer.get_feature_names_out()
    chosen: list[str] = []
    for index in np.argsort(-scores, kind="stable"):
        if scores[index] <= 0 or len(chosen) >= limit:
            break
        term = terms[index]
        if any(term in other.split() or other in term.split() for other in chosen if " " in other + term):
            continue
        if term not in chosen:
            chosen.append(term)
    return chosen
