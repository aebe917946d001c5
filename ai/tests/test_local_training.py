"""Per-workspace classifiers: time-ordered holdout, every example used, calibrated confidences, abstaining, honest
figures, a safe serial format and clear errors."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest

from ai.providers.local import training
from ai.providers.local.training import evaluate, majority_baseline, predict, train

DATA = Path(__file__).resolve().parent / "data"
TICKETS = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]

WORDS = {
    "billing": ["invoice", "refund", "payment", "charge", "vat", "receipt"],
    "login": ["password", "login", "locked", "reset", "2fa", "sso"],
    "shipping": ["parcel", "courier", "delivery", "tracking", "shipment", "address"],
}


def synthetic(count: int, seed: int = 0, ambiguous_every: int = 0) -> tuple[list[str], list[str]]:
    """Short texts whose topic words give the label; every Nth is topic-free filler with a random label."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        label = rng.choice(sorted(WORDS))
        if ambiguous_every and i % ambiguous_every == 0:
            texts.append(f"hello question about my account number {rng.randint(1, 99)} thanks")
        else:
            texts.append(" ".join(rng.sample(WORDS[label], 3)) + f" ticket {rng.randint(1, 999)}")
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def tickets_model() -> tuple[training.TrainingResult, list[dict]]:
    train_rows, test_rows = TICKETS[:300], TICKETS[300:]
    return train([t["text"] for t in train_rows], [t["label"] for t in train_rows]), test_rows


@pytest.fixture(scope="module")
def noisy_model() -> training.TrainingResult:
    return train(*synthetic(240, ambiguous_every=3))


def test_trained_classifier_beats_chance_by_far_on_unseen_tickets(tickets_model):
    result, test_rows = tickets_model
    evaluation = evaluate(result.model_bytes, [t["text"] for t in test_rows], [t["label"] for t in test_rows])
    assert evaluation.holdout_size == 100 and evaluation.accuracy >= 0.85  # chance is 1/8
    assert result.evaluation.accuracy > result.baseline.accuracy + 0.4
    assert set(result.params) >= {"features", "C", "class_weight"}


def test_the_newest_examples_are_the_holdout():
    texts, labels = synthetic(100)
    # The newest fifth is all "login": a shuffled holdout would also hold older tickets of other labels.
    texts[80:] = [f"password reset locked {i}" for i in range(20)]
    labels[80:] = ["login"] * 20
    labels[:80] = ["billing" if label == "login" else label for label in labels[:80]]
    texts[:80] = [t if "password" not in t else t.replace("password", "invoice") for t in texts[:80]]

    result = train(texts, labels)

    assert result.holdout_start == 80 and result.evaluation.holdout_size == 20
    assert result.evaluation.labels == result.baseline.labels  # both only saw the holdout's truth
    assert result.baseline.per_class["login"]["support"] == 20
    assert result.baseline.accuracy == 0.0  # the older part's commonest label never occurs in the newest


def test_every_example_is_learnt_from_even_the_oldest_of_a_big_label():
    # 400 "billing" examples; only the oldest 60 mention "quokka". A newest-300-per-label cap would forget it.
    texts = [f"quokka invoice query {i}" if i < 60 else f"general question {i}" for i in range(400)]
    labels = ["billing"] * 400
    texts += [f"general question about something {i}" for i in range(500)]
    labels += ["other"] * 500
    order = random.Random(1).sample(range(60, 900), 840)
    texts = texts[:60] + [texts[i] for i in order]
    labels = labels[:60] + [labels[i] for i in order]

    result = train(texts, labels)

    (prediction,) = predict(result.model_bytes, ["quokka"])
    assert prediction.label == "billing"


def test_low_confidence_predictions_abstain(noisy_model):
    assert 0.0 < noisy_model.abstain_below < 1.0
    assert noisy_model.evaluation.coverage < 1.0
    assert noisy_model.evaluation.answered_accuracy > noisy_model.evaluation.accuracy

    vague, clear = predict(
        noisy_model.model_bytes, ["hello question about my account number 7 thanks", "refund vat invoice"]
    )

    assert vague.abstained and vague.confidence < noisy_model.abstain_below
    assert (clear.label, clear.abstained) == ("billing", False)


def test_confidences_are_probabilities(noisy_model):
    texts, _ = synthetic(30, seed=5, ambiguous_every=2)
    model = training._load(noisy_model.model_bytes)
    probabilities = model.probabilities(training._Raw(texts, model.with_embeddings))

    assert probabilities.shape == (30, 3)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert all(0 < p.confidence <= 1 for p in predict(noisy_model.model_bytes, texts))
    assert noisy_model.params["temperature"] > 0


def test_majority_baseline_figures_by_hand():
    evaluation = majority_baseline(["a", "a", "b"], ["a", "b", "b", "a"])

    assert (evaluation.holdout_size, evaluation.accuracy, evaluation.coverage) == (4, 0.5, 1.0)
    assert evaluation.answered_accuracy == 0.5
    assert evaluation.labels == ("a", "b")
    assert evaluation.confusion == ((2, 0), (2, 0))
    assert evaluation.per_class["a"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 2}
    assert evaluation.per_class["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert evaluation.macro_f1 == 0.3333
    assert json.loads(json.dumps(evaluation.as_dict()))["confusion"] == [[2, 0], [2, 0]]


def test_evaluate_scores_a_stored_model_on_any_slice(noisy_model):
    texts = ["refund invoice vat", "password locked reset", "courier parcel tracking", "invoice receipt charge"]
    labels = ["billing", "login", "shipping", "login"]

    evaluation = evaluate(noisy_model.model_bytes, texts, labels)

    assert evaluation.accuracy == 0.75 and evaluation.coverage == 1.0
    assert evaluation.confusion == ((1, 0, 0), (1, 1, 0), (0, 0, 1))
    assert evaluation.per_class["billing"]["precision"] == 0.5


def test_model_bytes_are_plain_arrays_not_a_pickle(noisy_model):
    archive = np.load(io.BytesIO(noisy_model.model_bytes), allow_pickle=False)  # raises if anything needs unpickling
    assert all(archive[name].dtype != object for name in archive.files)
    assert {"classes", "word_columns", "word_idf", "word_coef", "intercept", "calibration"} <= set(archive.files)
    copied = bytes(bytearray(noisy_model.model_bytes))
    training._loaded.clear()
    assert predict(copied, ["parcel courier"]) == predict(noisy_model.model_bytes, ["parcel courier"])


def test_predict_and_evaluate_on_nothing_is_nothing(noisy_model):
    assert predict(noisy_model.model_bytes, []) == []
    assert evaluate(noisy_model.model_bytes, [], []).holdout_size == 0


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["x"], "every text needs exactly one label"),
        ([f"refund {i}" for i in range(12)], ["billing"] * 12, "at least two different labels"),
        (["refund", "login", "password"], ["billing", "login", "login"], "at least 10 labelled examples"),
        (["refund", "  "] + ["a"] * 10, ["billing"] * 6 + ["login"] * 6, "must not be empty"),
        ([f"t {i}" for i in range(12)], ["billing"] * 10 + ["login"] * 2, "older examples all have the same label"),
    ],
)
def test_bad_training_data_gets_a_clear_error(texts, labels, message):
    with pytest.raises(ValueError, match=message):
        train(texts, labels)


def test_foreign_bytes_are_rejected():
    with pytest.raises(ValueError, match="not a classifier"):
        predict(b"not a model", ["hello"])
