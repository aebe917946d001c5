"""Outcome models (a yes/no outcome from a record's fields): training on a known signal against the naive Bayes
anchor and the base rate on the same time-ordered holdout, calibration, drivers, refusals, and the lifecycle shared
with text classifiers through ai.facade (deploy only if better, force, rollback, the ledger, the models page)."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse
from sklearn.metrics import roc_auc_score

from ai import classifiers, facade
from ai.contracts import OutcomeData
from ai.models import AIRun, Dataset, ModelVersion
from ai.providers.local import outcomes
from ai.tests.outcome_data import lead_history

NAME = "test.conversion"
NAMES = ("Won", "Lost")


@pytest.fixture(scope="module")
def trained():
    rows, results, truth = lead_history(1000)
    return rows, results, truth, outcomes.train(rows, results, names=("won", "lost"))


# --- training (no database) ------------------------------------------------------------------------------------


def test_a_known_signal_beats_the_base_rate_with_an_auc_close_to_the_best_possible(trained):
    _rows, results, truth, result = trained
    start = result.holdout_start
    best_possible = roc_auc_score(results[start:], truth[start:])  # the true probabilities ranked

    assert start == 800 and result.evaluation["holdout_size"] == 200
    assert abs(result.evaluation["auc"] - best_possible) < 0.06
    assert result.evaluation["auc"] > 0.7 and result.baseline["auc"] == 0.5
    assert result.evaluation["brier"] < result.baseline["brier"]
    assert result.evaluation["positives"] + result.evaluation["negatives"] == 200


def test_the_naive_bayes_anchor_is_scored_on_the_same_holdout(trained):
    rows, results, _truth, result = trained
    start, anchor = result.holdout_start, result.evaluation["anchor"]
    refitted = outcomes._fit_naive_bayes(rows[:start], np.asarray(results[:start], dtype=int))

    expected = roc_auc_score(results[start:], refitted.log_odds(rows[start:]))

    assert anchor["holdout_size"] == 200 and anchor["positives"] == result.evaluation["positives"]
    assert anchor["auc"] == round(expected, 4)
    assert {candidate["model"] for candidate in result.evaluation["candidates"]} == {"naive_bayes", "logistic"}


def test_calibrated_probabilities_stay_inside_0_and_1_and_average_near_the_base_rate(trained):
    rows, results, _truth, result = trained
    start = result.holdout_start

    scores = outcomes.predict(result.model_bytes, rows[start:])
    probabilities = np.asarray([score.probability for score in scores])

    assert probabilities.min() > 0 and probabilities.max() < 1
    assert abs(probabilities.mean() - np.mean(results[start:])) < 0.06
    assert result.params["calibration"] == "platt"  # 200 held out: too few for isotonic steps


def test_drivers_name_the_field_that_carries_the_signal_in_words(trained):
    _rows, _results, _truth, result = trained
    referral = {"source": "referral", "value": 13000.0, "activities": 4, "country": "FR"}
    cold = {**referral, "source": "cold call"}

    (up,), (down,) = (outcomes.predict(result.model_bytes, [row]) for row in (referral, cold))

    assert up.probability > down.probability
    assert up.drivers[0].field == "source" and up.drivers[0].contribution > 0
    assert "Source = referral" in up.drivers[0].phrase and "raises the odds" in up.drivers[0].phrase
    assert down.drivers[0].field == "source" and "lowers the odds" in down.drivers[0].phrase
    assert all(abs(a.contribution) >= abs(b.contribution) for a, b in zip(up.drivers, up.drivers[1:], strict=False))


def test_the_naive_bayes_drivers_are_its_per_field_likelihood_ratios():
    rows, results, _truth = lead_history(600)
    model = outcomes._fit_naive_bayes(rows, np.asarray(results, dtype=int))

    (drivers,) = outcomes._drivers(model, [{"source": "referral", "value": None, "activities": 12}], top=5)

    by_field = {driver.field: driver for driver in drivers}
    assert by_field["source"].contribution > 0.5 and by_field["activities"].contribution > 0.5
    assert by_field["source"].contribution == pytest.approx(
        model.weights[_nb_index(model, "source", "referral")], abs=1e-4
    )
    assert "value" not in by_field and "country" not in by_field  # never missing in training: they say nothing


def _nb_index(model, field: str, value: str) -> int:
    return outcomes._nb_keys(model.schema).index((field, value))


def test_unknown_values_and_missing_fields_still_get_a_probability(trained):
    result = trained[3]

    (score,) = outcomes.predict(result.model_bytes, [{"source": "a fax", "surprise": "field"}])

    assert 0 < score.probability < 1


def test_decimal_money_counts_as_a_number_and_non_finite_numbers_as_missing(trained):
    result = trained[3]
    row = {"source": "website", "activities": 4, "country": "FR"}

    (as_decimal, as_float, as_nan) = outcomes.predict(
        result.model_bytes,
        [{**row, "value": Decimal("250000.00")}, {**row, "value": 250000.0}, {**row, "value": float("nan")}],
    )

    assert as_decimal.probability == as_float.probability != as_nan.probability
    assert any(driver.phrase.startswith("Value 250,000") for driver in as_decimal.drivers)


def test_too_few_examples_of_an_outcome_are_refused_with_how_many_are_needed():
    rows, results, _truth = lead_history(200)
    lost = [i for i, won in enumerate(results) if not won]
    keep = [i for i, won in enumerate(results) if won][:19] + lost

    with pytest.raises(ValueError, match="at least 20 won and 20 lost examples; there are 19 won"):
        outcomes.train([rows[i] for i in sorted(keep)], [results[i] for i in sorted(keep)], names=("won", "lost"))


def test_the_model_is_plain_arrays_never_a_pickle(trained):
    archive = np.load(io.BytesIO(trained[3].model_bytes), allow_pickle=False)

    assert set(archive.files) == {"meta", "weights", "intercept"}
    with pytest.raises(ValueError, match="not an outcome model"):
        outcomes.predict(b"not a model", [{"source": "x"}])


# --- the lifecycle through the facade ----------------------------------------------------------------------------


def _train(n: int = 400, seed: int = 7, **kwargs):
    rows, results, _truth = lead_history(n, seed=seed)
    return facade.outcome_model_train(NAME, rows, results, outcome_names=NAMES, **kwargs)


@pytest.mark.django_db
def test_without_a_deployed_model_predict_returns_none_for_the_callers_heuristic():
    assert facade.outcome_predict(NAME, {"source": "referral"}) is None
    assert facade.outcome_predict_many(NAME, [{"source": "referral"}]) is None
    assert facade.outcome_status(NAME) is None and facade.outcome_examples_needed() == 20


@pytest.mark.django_db
def test_the_first_version_is_deployed_and_predictions_are_recorded_with_it():
    report = _train(sources={"leads": 400}, fingerprint="400@today")

    assert (report.kind, report.version, report.status, report.deployed) == ("outcome", 1, "ready", True)
    assert report.auc > 0.7 and report.anchor_auc is not None and report.brier < report.baseline_brier
    assert report.label_counts["1"] + report.label_counts["0"] == 400
    assert "always the base rate (AUC 0.5)" in report.decision
    dataset = Dataset.objects.get(name=NAME)
    assert dataset.kind == "outcome" and dataset.label_names == {"1": "Won", "0": "Lost"}
    assert dataset.rows[0].keys() == {"source", "value", "activities", "country"} and dataset.texts == []
    assert facade.outcome_status(NAME) == report

    prediction = facade.outcome_predict(NAME, {"source": "referral", "value": 9000, "activities": 6}, feature="leads")

    assert 0 < prediction.probability < 1 and prediction.model == f"{NAME} v1" and prediction.version == 1
    assert prediction.drivers and prediction.drivers[0].phrase
    run = AIRun.objects.get(pk=prediction.meta.run_id)
    assert (run.feature, run.operation, run.provider, run.model) == ("leads", "predict", "local", f"{NAME} v1")
    assert run.output_data["probability"] == prediction.probability
    many = facade.outcome_predict_many(NAME, [{"source": "referral"}, {"source": "cold call"}])
    assert len(many) == 2 and many[0].probability > many[1].probability and many[0].meta is None
    assert AIRun.objects.count() == 1  # a batch is not recorded unless asked


@pytest.mark.django_db
def test_too_few_examples_through_the_facade_say_how_many_won_and_lost_are_needed():
    rows, results, _truth = lead_history(30)

    with pytest.raises(facade.AIInputError, match="at least 20 won and 20 lost"):
        facade.outcome_model_train(NAME, rows, results, outcome_names=NAMES)
    assert not ModelVersion.objects.filter(status="ready").exists()


def _scripted_auc(monkeypatch, auc: float) -> None:
    real = outcomes.train

    def train(*args, **kwargs):
        result = real(*args, **kwargs)
        return replace(result, evaluation={**result.evaluation, "auc": auc})

    monkeypatch.setattr(outcomes, "train", train)


@pytest.mark.django_db
def test_a_new_version_is_deployed_only_if_its_auc_is_better_on_the_same_holdout_and_can_be_rolled_back(monkeypatch):
    first = _train()
    _scripted_auc(monkeypatch, 0.55)  # the deployed v1 ranks the new holdout far better than that

    second = _train(n=420, seed=8)

    assert second.status == "ready" and not second.deployed
    assert "Not deployed: not better than the deployed version (v1)" in second.decision
    version = ModelVersion.objects.get(name=NAME, version=2)
    assert version.compared_with.version == 1 and version.current_evaluation["auc"] > 0.7
    assert version.current_evaluation["holdout_size"] == version.evaluation["holdout_size"]
    assert facade.outcome_status(NAME).version == first.version

    _scripted_auc(monkeypatch, 0.99)
    third = _train(n=440, seed=9)
    assert third.deployed and facade.outcome_status(NAME).version == 3

    classifiers.model_version_rollback(version_id=ModelVersion.objects.get(name=NAME, version=1).pk)
    assert facade.outcome_status(NAME).version == 1
    assert facade.outcome_predict(NAME, {"source": "referral"}).model == f"{NAME} v1"
    classifiers.model_version_deploy(version_id=version.pk, force=True)
    assert ModelVersion.objects.get(name=NAME, deployed=True).forced


def test_outcome_versions_compare_by_auc_then_brier():
    assert classifiers.outcome_is_better({"auc": 0.71, "brier": 0.3}, {"auc": 0.5, "brier": 0.2})
    assert not classifiers.outcome_is_better({"auc": 0.5, "brier": 0.1}, {"auc": 0.5, "brier": 0.25})
    assert classifiers.outcome_is_better({"auc": 0.7001, "brier": 0.19}, {"auc": 0.7, "brier": 0.2})
    assert not classifiers.outcome_is_better({"auc": 0.69, "brier": 0.1}, {"auc": 0.7, "brier": 0.2})


@pytest.mark.django_db
def test_a_name_keeps_its_kind_and_text_predictions_ignore_outcome_models():
    _train()

    with pytest.raises(facade.AIInputError, match="another kind"):
        facade.classifier_train(NAME, ["a"] * 10 + ["b"] * 10, ["x"] * 10 + ["y"] * 10)
    assert facade.classify_trained(NAME, "some text") is None


# --- the models page ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_models_page_shows_an_outcome_model_by_its_title_with_auc_anchor_and_calibration(
    client, login, monkeypatch, django_assert_max_num_queries
):
    rows, results, _truth = lead_history(400)
    data = OutcomeData(tuple(rows), tuple(results), NAMES, {"leads": 400})
    monkeypatch.setattr(classifiers, "_SOURCES", {})
    facade.register_outcome_source(
        NAME, title="Lead conversion", collect=lambda: data, description="won and lost leads.", noun="leads"
    )
    facade.outcome_train_queue(NAME)  # queued: the test runs the job itself
    classifiers.model_version_train(ModelVersion.objects.get(name=NAME).pk)
    _scripted_auc(monkeypatch, 0.5)
    facade.outcome_model_train(NAME, rows, results, outcome_names=NAMES)  # v2: not better, "Deploy anyway"
    login("admin")

    with django_assert_max_num_queries(12):
        response = client.get(reverse("ai:model_list") + f"?classifier={NAME}")

    html = response.content.decode()
    v1 = ModelVersion.objects.get(name=NAME, version=1)
    assert response.status_code == 200 and "Lead conversion" in html
    assert 'data-kind="outcome"' in html and html.count('data-testid="model-version"') == 2
    assert f"{v1.evaluation['auc']:.3f}" in html and f"{v1.evaluation['anchor']['auc']:.3f}" in html
    assert "Naive Bayes over field values (the anchor)" in html and "Always the base rate" in html
    assert f"{v1.evaluation['brier']:.3f}" in html and "Won " in html and "Lost " in html
    assert "newest leads" in html and 'data-testid="model-force"' in html
    assert NAME not in html.replace(f"classifier={NAME}", "").replace(f'value="{NAME}"', "")
    listed = client.get("/api/v1/ai/model-versions/", {"classifier": NAME}).json()["results"]
    assert listed[1]["kind"] == "outcome" and listed[1]["evaluation"]["anchor"]["auc"] == v1.evaluation["anchor"]["auc"]


@pytest.mark.django_db
def test_train_from_the_page_queues_an_outcome_version_whose_progress_names_the_records(client, login, monkeypatch):
    monkeypatch.setattr(classifiers, "enqueue_on_commit", lambda task, *args: "not-run")  # the worker is elsewhere
    monkeypatch.setattr(classifiers, "_SOURCES", {})
    rows, results, _truth = lead_history(100)
    facade.register_outcome_source(
        NAME, title="Lead conversion", collect=lambda: OutcomeData(tuple(rows), tuple(results), NAMES), noun="leads"
    )
    login("admin")

    response = client.post(reverse("ai:model_train"), {"classifier": NAME})

    version = ModelVersion.objects.get(name=NAME)
    assert response.status_code == 302 and (version.kind, version.status) == ("outcome", "training")
    fragment = client.get(reverse("ai:model_version_progress", args=[version.pk]), HTTP_HX_REQUEST="true")
    assert "newest leads" in fragment.content.decode()
    assert facade.outcome_status(NAME, latest=True).status == "training"
