"""Per-workspace classifiers trained on local embeddings: accuracy, a safe serial format and clear errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from ai.providers.local.training import cross_validated_accuracy, predict, train_classifier

DATA = Path(__file__).resolve().parent / "data"
TICKETS = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]


def split(per_label_train: int, per_label_test: int) -> tuple[list[dict], list[dict]]:
    """The first N tickets of each label train, the next M test (file order is a fixed shuffle)."""
    train, test, seen = [], [], {}
    for ticket in TICKETS:
        count = seen.get(ticket["label"], 0)
        seen[ticket["label"]] = count + 1
        if count < per_label_train:
            train.append(ticket)
        elif count < per_label_train + per_label_test:
            test.append(ticket)
    return train, test


@pytest.fixture(scope="module")
def trained() -> tuple[bytes, list[dict]]:
    train, test = split(20, 10)
    return train_classifier([t["text"] for t in train], [t["label"] for t in train]), test


def test_trained_classifier_beats_chance_by_far(trained):
    model, test = trained
    predictions = predict(model, [t["text"] for t in test])
    accuracy = np.mean([label == t["label"] for (label, _), t in zip(predictions, test, strict=True)])
    assert accuracy >= 0.85  # chance is 1/8
    assert all(0.0 < confidence <= 1.0 for _, confidence in predictions)


def test_model_bytes_are_plain_arrays_not_a_pickle(trained):
    model, _ = trained
    archive = np.load(io.BytesIO(model), allow_pickle=False)  # would raise if anything needed unpickling
    assert set(archive.files) == {"coef", "intercept", "classes", "meta"}
    assert archive["coef"].shape == (8, 384)
    assert len(model) < 20_000


def test_predict_on_nothing_is_nothing(trained):
    assert predict(trained[0], []) == []


def test_cross_validated_accuracy_is_reported():
    train, _ = split(12, 0)
    accuracy = cross_validated_accuracy([t["text"] for t in train], [t["label"] for t in train], folds=3)
    assert 0.7 <= accuracy <= 1.0


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["x"], "every text needs exactly one label"),
        (["refund", "refund please"], ["billing", "billing"], "at least two different labels"),
        (["refund", "login", "password"], ["billing", "login", "login"], "too few for: billing"),
        (["refund", "  ", "a", "b"], ["billing", "billing", "login", "login"], "must not be empty"),
    ],
)
def test_bad_training_data_gets_a_clear_error(texts, labels, message):
    with pytest.raises(ValueError, match=message):
        train_classifier(texts, labels)


def test_foreign_bytes_are_rejected():
    with pytest.raises(ValueError, match="not a classifier"):
        predict(b"not a model", ["hello"])
