"""Trained classifiers through ai.facade: datasets, versions, deploy only if better, force, rollback, abstaining,
the ledger naming the version, the training job's progress. Training is the scripted stand-in of
ai/tests/fake_training.py (the real one is exercised end to end in test_classifiers_end_to_end.py)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ai import classifiers, facade, services
from ai.models import AIFeedback, AIRun, Dataset, ModelVersion
from ai.tests.factories import ModelVersionFactory, ProviderConfigFactory
from ai.tests.fake_training import FakeTraining

pytestmark = pytest.mark.django_db

NAME = "test.topics"
BILLING = ["refund my invoice", "invoice charged twice", "refund the payment", "payment invoice wrong"] * 3
LOGIN = ["cannot login password", "password reset login", "login blocked account", "account password locked"] * 3


def _data(extra: int = 0) -> tuple[list[str], list[str]]:
    texts = [text for pair in zip(BILLING, LOGIN, strict=True) for text in pair]
    labels = ["billing", "login"] * len(BILLING)
    return texts + ["refund invoice"] * extra, labels + ["billing"] * extra


@pytest.fixture
def fake(monkeypatch) -> FakeTraining:
    return FakeTraining().install(monkeypatch)


def _train(**kwargs) -> facade.TrainingReport:
    texts, labels = _data(kwargs.pop("extra", 0))
    return facade.classifier_train(NAME, texts, labels, **kwargs)


def test_the_first_version_that_beats_the_majority_baseline_is_deployed(fake):
    report = _train(label_names={"billing": "Billing"}, sources={"tickets": 24})

    assert (report.version, report.status, report.deployed, report.accuracy) == (1, "ready", True, 0.9)
    assert report.baseline_accuracy == 0.4 and "always guessing the commonest label" in report.decision
    version = ModelVersion.objects.get(name=NAME)
    assert version.dataset.label_counts == {"billing": 12, "login": 12}
    assert version.dataset.sources == {"tickets": 24} and version.dataset.label_name("billing") == "Billing"
    assert facade.classifier_status(NAME) == report


def test_a_new_version_is_deployed_only_if_better_on_the_same_holdout(fake):
    first = _train()
    fake.accuracy = 0.8  # the new model scores lower on the new holdout than the deployed one does

    second = _train(extra=4)

    assert second.status == "ready" and not second.deployed
    assert "Not deployed: not better than the deployed version (v1)" in second.decision
    version = ModelVersion.objects.get(name=NAME, version=2)
    assert version.current_evaluation["accuracy"] == 0.9 and version.compared_with.version == 1
    assert version.evaluation["accuracy"] == 0.8
    assert facade.classifier_status(NAME).version == first.version

    fake.accuracy = 0.95
    third = _train(extra=8)
    assert third.deployed and facade.classifier_status(NAME).version == 3
    assert ModelVersion.objects.filter(name=NAME).count() == 3  # every version is kept


def test_equal_accuracy_goes_to_the_better_macro_f1():
    assert classifiers.is_better({"accuracy": 0.8, "macro_f1": 0.7}, {"accuracy": 0.8001, "macro_f1": 0.6})
    assert not classifiers.is_better({"accuracy": 0.8, "macro_f1": 0.6}, {"accuracy": 0.8, "macro_f1": 0.6})
    assert not classifiers.is_better({"accuracy": 0.79, "macro_f1": 0.9}, {"accuracy": 0.8, "macro_f1": 0.1})


def test_an_admin_can_force_a_version_that_was_not_better(fake):
    _train()
    fake.accuracy = 0.5
    worse = ModelVersion.objects.get(version=_train(extra=2).version, name=NAME)

    classifiers.model_version_deploy(version_id=worse.pk, force=True)

    worse.refresh_from_db()
    assert worse.deployed and worse.forced and worse.deployed_at
    assert list(ModelVersion.objects.filter(name=NAME, deployed=True).values_list("version", flat=True)) == [2]


def test_rollback_deploys_an_earlier_version_and_keeps_the_newer_one(fake):
    _train()
    fake.accuracy = 0.95
    _train(extra=2)
    first = ModelVersion.objects.get(name=NAME, version=1)

    classifiers.model_version_rollback(version_id=first.pk)

    assert facade.classifier_status(NAME).version == 1
    assert ModelVersion.objects.get(name=NAME, version=2).status == "ready"
    with pytest.raises(facade.AIInputError, match="not older"):
        classifiers.model_version_rollback(version_id=first.pk)


def test_only_a_ready_version_can_be_deployed():
    training = ModelVersionFactory(status="training", model_bytes=None)
    with pytest.raises(facade.AIInputError, match="not ready"):
        classifiers.model_version_deploy(version_id=training.pk, force=True)


def test_a_prediction_names_the_version_in_the_ledger(fake, make_user):
    _train()
    user = make_user("agent")

    result = facade.classify_trained(NAME, "please refund my invoice", feature="test.topic", user=user)

    assert (result.label, result.abstained, result.meta.model) == ("billing", False, "test.topics v1")
    run = AIRun.objects.get(pk=result.meta.run_id)
    assert (run.feature, run.operation, run.provider, run.model, run.user_id) == (
        "test.topic",
        "classify",
        "local",
        "test.topics v1",
        user.pk,
    )
    assert run.output_data["model_version"] == 1 and run.output_data["abstained"] is False
    assert run.output_data["model_version_id"] == ModelVersion.objects.get(name=NAME).pk
    facade.record_feedback(run_id=run.pk, outcome="accepted", user=user)
    assert AIFeedback.objects.get(run=run).outcome == "accepted"


def test_an_unsure_model_abstains_and_the_ledger_says_so(fake):
    _train()

    result = facade.classify_trained(NAME, "refund my login password", feature="test.topic")  # words of both

    assert result.abstained and result.confidence < 0.6
    run = AIRun.objects.get(pk=result.meta.run_id)
    assert run.output_data["abstained"] is True and run.output_text == ""


def test_no_deployed_version_means_none_so_the_caller_may_use_zero_shot(fake):
    assert facade.classify_trained("nothing.here", "Where is my parcel?") is None
    assert facade.classifier_status("nothing.here") is None
    ModelVersionFactory(name="test.undeployed")
    assert facade.classify_trained("test.undeployed", "hello") is None


def test_examples_that_cannot_make_a_model_fail_the_version_with_the_reason(fake):
    with pytest.raises(facade.AIInputError, match="two different labels"):
        facade.classifier_train(NAME, ["a", "b", "c"], ["x", "x", "x"])
    version = ModelVersion.objects.get(name=NAME)
    assert version.status == "failed" and "two different labels" in version.error and not version.deployed


def test_the_training_job_queued_from_a_registered_source_writes_its_progress(
    fake, monkeypatch, django_capture_on_commit_callbacks
):
    texts, labels = _data()
    monkeypatch.setattr(classifiers, "_SOURCES", {})
    facade.register_training_source(
        NAME, title="Topics", collect=lambda: facade.TrainingData(tuple(texts), tuple(labels), sources={"x": 24})
    )
    seen: list[tuple[float, str]] = []
    writer = classifiers._progress_writer

    def spying_writer(version_id):
        write = writer(version_id)

        def spy(fraction, message):
            write(fraction, message)
            row = ModelVersion.objects.get(pk=version_id)
            seen.append((row.progress, row.progress_message))

        return spy

    monkeypatch.setattr(classifiers, "_progress_writer", spying_writer)

    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the task runs after the commit
        report = facade.classifier_train_queue(NAME)

    assert report.status == "training"  # what the caller saw when it queued
    assert seen == [(0.0, "Starting"), (0.1, "Reading examples"), (0.5, "Choosing features"), (0.9, "Refitting")]
    version = ModelVersion.objects.get(name=NAME)
    assert (version.status, version.progress, version.progress_message, version.deployed) == (
        "ready",
        1.0,
        "Done",
        True,
    )
    assert Dataset.objects.get(name=NAME).sources == {"x": 24}


def test_a_version_already_training_is_not_queued_twice(monkeypatch):
    monkeypatch.setattr(classifiers, "_SOURCES", {})
    running = ModelVersionFactory(name=NAME, status="training")
    facade.register_training_source(NAME, title="Topics", collect=lambda: pytest.fail("must not collect"))

    assert facade.classifier_train_queue(NAME).version == running.version


def test_delete_removes_versions_and_datasets(fake):
    _train()
    assert facade.classifier_delete(NAME) is True
    assert not ModelVersion.objects.filter(name=NAME).exists() and not Dataset.objects.filter(name=NAME).exists()


def test_a_classifier_needs_a_sensible_name_and_text(fake):
    _train()
    with pytest.raises(facade.AIInputError):
        facade.classifier_train("", ["a"], ["b"])
    with pytest.raises(facade.AIInputError, match="empty"):
        facade.classify_trained(NAME, "   ")


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


def test_a_version_whose_job_was_lost_stops_blocking_new_training(
    fake, monkeypatch, django_capture_on_commit_callbacks
):
    texts, labels = _data()
    monkeypatch.setattr(classifiers, "_SOURCES", {})
    facade.register_training_source(
        NAME, title="Topics", collect=lambda: facade.TrainingData(tuple(texts), tuple(labels))
    )
    lost = ModelVersionFactory(name=NAME, status="training", version=1)
    ModelVersion.objects.filter(pk=lost.pk).update(created_at=timezone.now() - classifiers.TRAINING_GIVES_UP_AFTER)

    with django_capture_on_commit_callbacks(execute=True):
        report = facade.classifier_train_queue(NAME)

    assert report.version == 2 and ModelVersion.objects.get(pk=lost.pk).status == "failed"
