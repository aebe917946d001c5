"""Trained classifiers and locally built output through ai.facade: train, status, predict with a ledger row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai import facade, services
from ai.models import AIFeedback, AIRun, TrainedClassifier
from ai.tests.factories import ProviderConfigFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data"
TICKETS = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]
LABELS = ("billing", "login", "shipping")


def examples(per_label: int, skip: int = 0) -> list[dict]:
    seen: dict[str, int] = {}
    chosen = []
    for row in TICKETS:
        if row["label"] not in LABELS:
            continue
        count = seen.get(row["label"], 0)
        seen[row["label"]] = count + 1
        if skip <= count < skip + per_label:
            chosen.append(row)
    return chosen


@pytest.fixture
def trained() -> facade.TrainingReport:
    rows = examples(8)
    return facade.classifier_train(
        "test.topics", [r["text"] for r in rows], [r["label"] for r in rows], fingerprint="v1"
    )


def test_training_reports_what_it_learnt_and_stores_plain_arrays(trained):
    assert (trained.name, trained.labels, trained.examples) == ("test.topics", LABELS, 24)
    assert trained.label_counts == {"billing": 8, "login": 8, "shipping": 8}
    assert facade.get_feedback(999999) == ()
    assert 0.6 <= trained.accuracy <= 1.0 and trained.fingerprint == "v1"
    assert facade.classifier_status("test.topics") == trained
    row = TrainedClassifier.objects.get(name="test.topics")
    assert bytes(row.model_bytes)[:2] == b"PK"  # an .npz archive (zip of arrays), not a pickle


def test_classify_trained_predicts_and_records_a_local_run(trained, make_user):
    user = make_user("agent")
    held_out = examples(4, skip=10)

    results = [facade.classify_trained("test.topics", row["text"], feature="test.topic", user=user) for row in held_out]

    accuracy = sum(result.label == row["label"] for result, row in zip(results, held_out, strict=True)) / len(held_out)
    assert accuracy >= 0.8
    run = AIRun.objects.get(pk=results[0].meta.run_id)
    assert (run.feature, run.operation, run.provider, run.user_id) == ("test.topic", "classify", "local", user.pk)
    assert run.output_text == results[0].label and results[0].meta.is_local
    facade.record_feedback(run_id=run.pk, outcome="accepted", user=user)
    assert AIFeedback.objects.get(run=run).outcome == "accepted"


def test_no_classifier_means_none_so_the_caller_uses_zero_shot():
    assert facade.classify_trained("nothing.here", "Where is my parcel?") is None
    assert facade.classifier_status("nothing.here") is None


def test_retraining_replaces_the_model_and_delete_removes_it(trained):
    rows = examples(4)
    again = facade.classifier_train("test.topics", [r["text"] for r in rows], [r["label"] for r in rows])

    assert again.examples == 12 and TrainedClassifier.objects.filter(name="test.topics").count() == 1
    assert facade.classifier_delete("test.topics") is True
    assert facade.classify_trained("test.topics", "refund please") is None


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["x"], "every text needs exactly one label"),
        (["refund", "refund again", "login"], ["billing", "billing", "billing"], "at least two different labels"),
        (["refund", "refund again", "login"], ["billing", "billing", "login"], "at least 10 labelled examples"),
        (["", "b", "c", "d"], ["x", "x", "y", "y"], "must not be empty"),
    ],
)
def test_unusable_training_data_is_an_input_error_with_a_reason(texts, labels, message):
    with pytest.raises(facade.AIInputError, match=message):
        facade.classifier_train("test.bad", texts, labels)
    assert not TrainedClassifier.objects.filter(name="test.bad").exists()


def test_a_classifier_needs_a_sensible_name_and_text(trained):
    with pytest.raises(facade.AIInputError):
        facade.classifier_train("", ["a"], ["b"])
    with pytest.raises(facade.AIInputError, match="empty"):
        facade.classify_trained("test.topics", "   ")


def test_a_stored_model_of_an_unknown_format_is_treated_as_absent():
    TrainedClassifier.objects.create(
        name="test.old", labels=["a", "b"], embedding_model="all-MiniLM-L6-v2", model_bytes=b"not a model"
    )

    assert facade.classify_trained("test.old", "hello there") is None


def test_local_output_is_recorded_so_feedback_can_be_given(make_user):
    user = make_user("agent")

    meta = facade.record_local_output("helpdesk.reply_draft", "Hello, see [1].", data={"sources": [1]}, user=user)

    run = AIRun.objects.get(pk=meta.run_id)
    assert (run.provider, run.model, run.output_text, run.output_data) == (
        "local",
        "template",
        "Hello, see [1].",
        {"sources": [1]},
    )
    assert meta.is_local
    with pytest.raises(facade.AIInputError):
        facade.record_local_output("helpdesk.reply_draft", " ")


def test_can_generate_only_with_an_enabled_external_provider_the_policy_allows():
    assert facade.can_generate() is False

    ProviderConfigFactory(enabled=True)
    assert facade.can_generate() is True

    services.ai_policy_update(allow_external_providers=False)
    assert facade.can_generate() is False
