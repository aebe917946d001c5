"""The classifier lifecycle with the real training code (ai.providers.local.training) on the labelled ticket set:
a first version beats the majority baseline and is deployed, a second one is compared on its own holdout, the
deployed version predicts held-out tickets and the ledger names it, and the job writes its progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai import facade
from ai.models import AIRun, ModelVersion

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data"
TICKETS = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]
LABELS = ("billing", "login", "shipping")
NAME = "test.topics"


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


def _train(rows: list[dict]) -> facade.TrainingReport:
    return facade.classifier_train(NAME, [row["text"] for row in rows], [row["label"] for row in rows])


def test_real_training_deploys_a_version_that_beats_the_baseline_and_predictions_name_it(make_user):
    first = _train(examples(12))

    assert first.status == "ready" and first.deployed and first.version == 1
    assert first.accuracy > first.baseline_accuracy
    version = ModelVersion.objects.get(name=NAME, version=1)
    assert version.progress == 1.0 and version.params and 0 <= version.abstain_below <= 1
    assert set(version.evaluation["per_class"]) <= set(LABELS) and version.evaluation["confusion"]

    held_out = examples(4, skip=20)
    results = [facade.classify_trained(NAME, row["text"], feature="test.topic") for row in held_out]
    answered = [(result, row) for result, row in zip(results, held_out, strict=True) if not result.abstained]
    assert answered and sum(result.label == row["label"] for result, row in answered) / len(answered) >= 0.7
    run = AIRun.objects.get(pk=results[0].meta.run_id)
    assert run.model == "test.topics v1" and run.output_data["model_version_id"] == version.pk


def test_a_process_reads_a_deployed_models_bytes_once_not_per_prediction():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _train(examples(12))
    first, second = examples(2, skip=20)[:2]
    with CaptureQueriesContext(connection) as first_call:
        facade.classify_trained(NAME, first["text"], feature="test.topic")
    with CaptureQueriesContext(connection) as later_call:
        facade.classify_trained(NAME, second["text"], feature="test.topic")

    def reads_bytes(context) -> bool:
        return any('"model_bytes"' in query["sql"] for query in context.captured_queries)

    assert reads_bytes(first_call) and not reads_bytes(later_call)


def test_a_second_real_version_is_compared_with_the_deployed_one_on_its_own_holdout():
    _train(examples(12))

    second = _train(examples(16))

    version = ModelVersion.objects.get(name=NAME, version=2)
    assert version.compared_with.version == 1 and version.current_evaluation is not None
    assert version.current_evaluation["holdout_size"] == version.evaluation["holdout_size"]
    deployed = facade.classifier_status(NAME).version
    assert deployed == (2 if second.deployed else 1)
    assert ("Deployed" if second.deployed else "Not deployed") in second.decision
