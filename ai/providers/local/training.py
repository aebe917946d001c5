"""Per-workspace trainable classifiers: logistic regression on the local sentence embeddings.

A workspace with labelled examples (tickets an agent categorised) gets a classifier that beats zero-shot by a wide
margin (see bench/ai_local.py). Training 1,000 examples takes well under a second after embedding them.

The model is serialised as a small `.npz` archive of plain arrays (coefficients, intercepts, class names), not as
a pickle: the bytes are stored in the database, and loading a pickle from a row would execute whatever it says.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from .encoder import MODEL_NAME

FORMAT_VERSION = 1
MIN_CLASSES = 2
MIN_EXAMPLES_PER_CLASS = 2
# Unit-length 384-d features: moderate regularisation; class_weight balances skewed workspaces' label counts.
REGULARISATION_C = 4.0


def _embed(texts: Sequence[str]) -> np.ndarray:
    from . import get_local_provider

    return get_local_provider().embed_array(list(texts))


def _validate(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels; every text needs exactly one label.")
    if any(not (text or "").strip() for text in texts):
        raise ValueError("Training texts must not be empty.")
    if any(not (label or "").strip() for label in labels):
        raise ValueError("Labels must not be empty.")
    counts = Counter(labels)
    if len(counts) < MIN_CLASSES:
        raise ValueError("A classifier needs examples of at least two different labels.")
    scarce = sorted(label for label, count in counts.items() if count < MIN_EXAMPLES_PER_CLASS)
    if scarce:
        raise ValueError(
            f"Each label needs at least {MIN_EXAMPLES_PER_CLASS} examples; too few for: {', '.join(scarce)}."
        )


def _model() -> LogisticRegression:
    return LogisticRegression(C=REGULARISATION_C, max_iter=2000, class_weight="balanced")


def train_classifier(texts: Sequence[str], labels: Sequence[str]) -> bytes:
    """Fit on the texts' embeddings; returns the serialised model (a few KB per label)."""
    _validate(texts, labels)
    model = _model().fit(_embed(texts), list(labels))
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        coef=model.coef_.astype(np.float32),
        intercept=model.intercept_.astype(np.float32),
        classes=np.asarray(model.classes_, dtype=str),
        meta=np.asarray([str(FORMAT_VERSION), MODEL_NAME]),
    )
    return buffer.getvalue()


def _load(model_bytes: bytes) -> LogisticRegression:
    try:
        archive = np.load(io.BytesIO(model_bytes), allow_pickle=False)
        version, embedding_model = (str(v) for v in archive["meta"])
        coef, intercept, classes = archive["coef"], archive["intercept"], archive["classes"]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError("These bytes are not a classifier trained by train_classifier().") from error
    if version != str(FORMAT_VERSION) or embedding_model != MODEL_NAME:
        raise ValueError(f"Classifier format {version} for {embedding_model} cannot be read; retrain it.")
    model = _model()
    model.coef_, model.intercept_, model.classes_ = coef.astype(np.float64), intercept.astype(np.float64), classes
    return model


def predict(model_bytes: bytes, texts: Sequence[str]) -> list[tuple[str, float]]:
    """(label, probability of that label) for each text, in order."""
    if not texts:
        return []
    model = _load(model_bytes)
    probabilities = model.predict_proba(_embed(texts))
    best = probabilities.argmax(axis=1)
    return [(str(model.classes_[i]), round(float(p[i]), 4)) for i, p in zip(best, probabilities, strict=True)]


def cross_validated_accuracy(texts: Sequence[str], labels: Sequence[str], folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy over stratified folds: what to expect on new tickets of the same workspace."""
    _validate(texts, labels)
    folds = max(2, min(folds, min(Counter(labels).values())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(_model(), _embed(texts), list(labels), cv=splitter, scoring="accuracy").mean())
