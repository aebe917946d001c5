"""Named per-workspace classifiers and their lifecycle: datasets, versions trained in Celery, deploy-if-better,
rollback, and predictions recorded in the ledger with the version that made them.

A domain app registers a training source per classifier (`training_source_register`): a callable that returns
the workspace's labelled examples, oldest first (the helpdesk: tickets with their category). Training snapshots
them into a `Dataset`, fits a `ModelVersion` with ai.providers.local.training (the newest part is the holdout),
scores the deployed version on the same holdout, and deploys the new one only if it does better there (ties on
accuracy go to macro-F1); an admin may deploy any ready version anyway, which is also how rollback works.
Prediction runs on this server (the model only exists here); a prediction below the version's abstain threshold
is an abstention: the caller shows "no suggestion", never a guess from elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.outbox import enqueue_on_commit

from .contracts import AIInputError, Classification, RunMeta, TrainingData, TrainingReport
from .models import AIRun, Dataset, ModelVersion
from .providers.local import training
from .services import ai_run_record

logger = logging.getLogger(__name__)

MAX_NAME = 80
# The newest examples are kept when there are more: the model follows how the workspace labels today.
MAX_DATASET_EXAMPLES = 50_000
MAX_TEXT_CHARS = 4000
# A version still "training" this long after it was queued lost its job (a worker restart): it no longer blocks.
TRAINING_GIVES_UP_AFTER = timedelta(hours=3)
PROGRESS_EVERY = 0.01  # progress rows are written when the fraction moved at least this much, or the message changed


@dataclass(frozen=True)
class TrainingSource:
    name: str
    title: str  # shown on the models page, e.g. "Ticket category"
    collect: Callable[[], TrainingData]
    description: str = ""


_SOURCES: dict[str, TrainingSource] = {}


def training_source_register(
    name: str, *, title: str, collect: Callable[[], TrainingData], description: str = ""
) -> None:
    """Called by a domain app at start-up (AppConfig.ready): where the examples of classifier `name` come from."""
    _SOURCES[_check_name(name)] = TrainingSource(name, title, collect, description)


def training_sources() -> dict[str, TrainingSource]:
    return dict(_SOURCES)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise AIInputError(f"A classifier needs a name of 1 to {MAX_NAME} characters.")
    return name


# --- Datasets --------------------------------------------------------------------------------------


def dataset_create(*, name: str, data: TrainingData) -> Dataset:
    """Snapshots labelled examples (oldest first) for the classifier `name`."""
    name = _check_name(name)
    texts = [str(text)[:MAX_TEXT_CHARS] for text in data.texts]
    labels = [str(label).strip()[:100] for label in data.labels]
    if len(texts) != len(labels):
        raise AIInputError(f"Got {len(texts)} texts but {len(labels)} labels; every text needs exactly one label.")
    texts, labels = texts[-MAX_DATASET_EXAMPLES:], labels[-MAX_DATASET_EXAMPLES:]
    counts = Counter(labels)
    return Dataset.objects.create(
        name=name,
        texts=texts,
        labels=labels,
        label_counts=dict(counts.most_common()),
        label_names={str(key): str(value) for key, value in (data.label_names or {}).items()},
        sources={str(key): int(value) for key, value in (data.sources or {}).items()},
        examples=len(texts),
        fingerprint=(data.fingerprint or "")[:64],
    )


def dataset_collect(name: str) -> Dataset:
    """A new dataset from the registered source of `name`; AIInputError when nothing provides its examples."""
    source = _SOURCES.get(_check_name(name))
    if source is None:
        raise AIInputError(f"Nothing in this workspace provides examples for “{name}”.")
    return dataset_create(name=name, data=source.collect())


# --- Versions: start, train, deploy ------------------------------------------------------------------


def model_version_start(*, dataset: Dataset) -> ModelVersion:
    """A new version row (status "training", progress 0) numbered after the classifier's highest."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                top = ModelVersion.objects.filter(name=dataset.name).aggregate(top=Max("version"))["top"] or 0
                return ModelVersion.objects.create(
                    name=dataset.name, version=top + 1, dataset=dataset, progress_message="Queued"
                )
        except IntegrityError:  # another version was numbered at the same moment: take the next number
            continue
    raise AIInputError("Could not number the new version; try again.")


def model_version_train_queue(*, name: str) -> ModelVersion:
    """Collects a dataset and queues its training on the bulk queue; a version already training is returned as is."""
    training = ModelVersion.objects.filter(name=_check_name(name), status=ModelVersion.Status.TRAINING)
    training.filter(created_at__lt=timezone.now() - TRAINING_GIVES_UP_AFTER).update(
        status=ModelVersion.Status.FAILED, error="The training job did not finish; train a new version.", progress=0
    )
    running = training.first()
    if running is not None:
        return running
    with transaction.atomic():
        version = model_version_start(dataset=dataset_collect(name))
        from .tasks import model_version_train_task  # tasks import this module

        enqueue_on_commit(model_version_train_task, version.pk)
    return version


def _progress_writer(version_id: int) -> Callable[[float, str], None]:
    last: dict[str, Any] = {"fraction": -1.0, "message": None}

    def write(fraction: float, message: str) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction - last["fraction"] < PROGRESS_EVERY and message == last["message"]:
            return
        last.update(fraction=fraction, message=message)
        ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.TRAINING).update(
            progress=fraction, progress_message=str(message)[:200]
        )

    return write


def model_version_train(version_id: int) -> ModelVersion | None:
    """The training job: fits the version on its dataset, evaluates, and deploys it when it beats the current one.

    Progress goes to the version row as it runs (each write commits on its own, so the page sees it). Examples
    that cannot make a model mark the version failed with the reason in words; None when the version is gone.
    """
    version = ModelVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is None or version.status != ModelVersion.Status.TRAINING:
        return version
    dataset = version.dataset
    progress = _progress_writer(version.pk)
    progress(0.0, "Starting")
    try:
        result = training.train(list(dataset.texts), list(dataset.labels), progress=progress)
    except ValueError as error:
        return _fail(version, str(error))
    except Exception:
        logger.exception("training %s failed", version.label)
        return _fail(version, "Training hit an unexpected error. Try again; if it keeps failing, tell support.")
    return _finish(version, result)


def _fail(version: ModelVersion, reason: str) -> ModelVersion:
    version.status, version.error = ModelVersion.Status.FAILED, reason
    version.progress_message = "Failed"
    version.save(update_fields=["status", "error", "progress_message"])
    return version


def _finish(version: ModelVersion, result: Any) -> ModelVersion:
    current = ModelVersion.objects.filter(name=version.name, deployed=True).exclude(pk=version.pk).first()
    current_evaluation = _evaluate_current(current, version.dataset, result.holdout_start)
    evaluation, baseline = result.evaluation.as_dict(), result.baseline.as_dict()
    reference, against = (current_evaluation, f"v{current.version}") if current_evaluation else (baseline, "")
    better = is_better(evaluation, reference)
    version.status = ModelVersion.Status.READY
    version.progress, version.progress_message = 1.0, "Done"
    version.model_bytes = result.model_bytes
    version.evaluation, version.baseline, version.current_evaluation = evaluation, baseline, current_evaluation
    version.compared_with = current if current_evaluation else None
    version.holdout_start, version.params = result.holdout_start, dict(result.params)
    version.abstain_below, version.training_seconds = result.abstain_below, round(result.seconds, 2)
    version.trained_at = timezone.now()
    version.decision = _decision(better, evaluation, reference, against, current)
    version.save()
    if better:
        model_version_deploy(version_id=version.pk)
        version.refresh_from_db()
    return version


def _evaluate_current(current: ModelVersion | None, dataset: Dataset, holdout_start: int) -> dict | None:
    """The deployed version on the new holdout. It may have seen some of those examples in training, which only
    flatters it: a new version that still beats it is better."""
    if current is None or not current.model_bytes:
        return None
    texts, labels = list(dataset.texts[holdout_start:]), list(dataset.labels[holdout_start:])
    try:
        return training.evaluate(bytes(current.model_bytes), texts, labels).as_dict()
    except ValueError:  # stored in a format this code cannot read: nothing to compare with
        logger.warning("could not score %s on the new holdout", current.label, exc_info=True)
        return None


def is_better(candidate: dict, reference: dict | None) -> bool:
    """Higher held-out accuracy wins; equal accuracy (to 0.1 point) goes to the higher macro-F1."""
    if not reference:
        return True
    accuracy, other_accuracy = round(candidate["accuracy"], 3), round(reference["accuracy"], 3)
    if accuracy != other_accuracy:
        return accuracy > other_accuracy
    return round(candidate["macro_f1"], 3) > round(reference["macro_f1"], 3)


def _decision(better: bool, evaluation: dict, reference: dict, against: str, current: ModelVersion | None) -> str:
    name = f"the deployed version ({against})" if against else "always guessing the commonest label"
    figures = f"{evaluation['accuracy']:.1%} against {reference['accuracy']:.1%} held-out accuracy"
    if better:
        return f"Deployed: better than {name}, {figures}."
    if current is not None and not against:
        return f"Not deployed: the deployed v{current.version} could not be compared; it stays. {figures}."
    return f"Not deployed: not better than {name}, {figures}."


@transaction.atomic
def model_version_deploy(*, version_id: int, force: bool = False) -> ModelVersion:
    """Makes a ready version the one predictions use (the others stay, for rollback). `force`: an admin's choice
    against the holdout's verdict, recorded on the version."""
    version = ModelVersion.objects.select_for_update().filter(pk=version_id).first()
    if version is None:
        raise AIInputError("There is no such model version in this workspace.")
    if version.status != ModelVersion.Status.READY or not version.model_bytes:
        raise AIInputError(f"{version.label} is not ready: only a trained version can be deployed.")
    if version.deployed:
        return version
    ModelVersion.objects.filter(name=version.name, deployed=True).update(deployed=False)
    version.deployed, version.deployed_at, version.forced = True, timezone.now(), force
    version.save(update_fields=["deployed", "deployed_at", "forced"])
    return version


def model_version_rollback(*, version_id: int) -> ModelVersion:
    """Back to an earlier ready version of the same classifier (one click on the models page)."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise AIInputError("There is no such model version in this workspace.")
    newer = ModelVersion.objects.filter(name=version.name, deployed=True, version__gt=version.version).exists()
    if not newer:
        raise AIInputError(f"{version.label} is not older than the deployed version: deploy it instead.")
    return model_version_deploy(version_id=version.pk)


def classifier_delete(name: str) -> bool:
    name = _check_name(name)
    with transaction.atomic():
        deleted, _ = ModelVersion.objects.filter(name=name).delete()
        datasets, _ = Dataset.objects.filter(name=name).delete()
    return bool(deleted or datasets)


# --- Facade helpers: train now, status, predict -----------------------------------------------------


def _report(version: ModelVersion) -> TrainingReport:
    dataset, evaluation = version.dataset, version.evaluation or {}
    return TrainingReport(
        name=version.name,
        labels=tuple(sorted(dataset.label_counts)),
        examples=dataset.examples,
        label_counts=dict(dataset.label_counts),
        accuracy=evaluation.get("accuracy"),
        fingerprint=dataset.fingerprint,
        trained_at=version.trained_at or version.created_at,
        version=version.version,
        status=version.status,
        deployed=version.deployed,
        macro_f1=evaluation.get("macro_f1"),
        baseline_accuracy=(version.baseline or {}).get("accuracy"),
        decision=version.decision or version.error,
    )


def classifier_train(*, name: str, data: TrainingData, background: bool = False) -> TrainingReport:
    """A new version on these examples: trained here (the caller already is a background job) or queued."""
    with transaction.atomic():
        version = model_version_start(dataset=dataset_create(name=name, data=data))
        if background:
            from .tasks import model_version_train_task

            enqueue_on_commit(model_version_train_task, version.pk)
    if not background:
        version = model_version_train(version.pk)
        if version.status == ModelVersion.Status.FAILED:
            raise AIInputError(version.error)
    return _report(version)


def classifier_status(name: str, *, latest: bool = False) -> TrainingReport | None:
    """The deployed version of `name` (None when predictions would find no model), or its newest version."""
    if latest:
        rows = ModelVersion.objects.select_related("dataset").filter(name=_check_name(name)).order_by("-version")
        version = rows.defer("model_bytes", "dataset__texts", "dataset__labels").first()
    else:
        version = _deployed(name)
    return _report(version) if version else None


def _deployed(name: str) -> ModelVersion | None:
    rows = ModelVersion.objects.select_related("dataset").filter(name=_check_name(name), deployed=True)
    return rows.defer("model_bytes", "dataset__texts", "dataset__labels").first()


def _model_bytes(version_id: int) -> bytes:
    return bytes(ModelVersion.objects.values_list("model_bytes", flat=True).get(pk=version_id))


def classify_trained(*, name: str, text: str, feature: str, user=None) -> Classification | None:
    """The deployed version's label for `text` (`abstained` when it is not sure enough), or None when the workspace
    has no deployed version of that name. The ledger row names the version."""
    if not isinstance(text, str) or not text.strip():
        raise AIInputError("The text is empty.")
    version = _deployed(name)
    if version is None:
        return None
    started = time.perf_counter()
    # A version's model never changes once trained: its bytes are read only by the first prediction in a process.
    key = (connection.schema_name, version.pk, version.trained_at)
    try:
        (prediction,) = training.predict_stored(key, lambda: _model_bytes(version.pk), [text])
    except ValueError:
        logger.warning("%s cannot be read by this code; retrain it", version.label, exc_info=True)
        return None
    latency = (time.perf_counter() - started) * 1000
    label, confidence = str(prediction.label), float(prediction.confidence)
    run = ai_run_record(
        user=user,
        feature=feature,
        operation="classify",
        provider="local",
        model=version.label,
        latency_ms=round(latency),
        status=AIRun.Status.OK,
        output_text="" if prediction.abstained else label,
        output_data={
            "label": label,
            "confidence": round(confidence, 4),
            "abstained": bool(prediction.abstained),
            "abstain_below": version.abstain_below,
            "classifier": version.name,
            "model_version": version.version,
            "model_version_id": version.pk,
        },
    )
    meta = RunMeta(feature=feature, provider="local", model=version.label, run_id=run.pk, latency_ms=latency)
    return Classification(label, confidence, {label: confidence}, meta, abstained=bool(prediction.abstained))


def local_output_record(
    *, feature: str, text: str, data: dict | None = None, model: str = "template", user=None
) -> RunMeta:
    """A ledger row for output the calling app built itself (from local retrieval and templates, or rules: no
    model wrote it), so the agent's feedback on it is measured like any other AI output."""
    if not isinstance(text, str) or not text.strip():
        raise AIInputError("The text is empty.")
    run = ai_run_record(
        user=user,
        feature=feature,
        operation="generate",
        provider="local",
        model=model,
        status=AIRun.Status.OK,
        output_text=text,
        output_data=data,
    )
    return RunMeta(feature=feature, provider="local", model=model, run_id=run.pk)
