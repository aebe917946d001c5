"""Named per-workspace classifiers and their lifecycle: datasets, versions trained in Celery, deploy-if-better,
rollback, and predictions recorded in the ledger with the version that made them.

A domain app registers a training source per classifier (`training_source_register`): a callable that returns
the workspace's labelled examples, oldest first (the helpdesk: tickets with their category). Training snapshots
them into a `Dataset`, fits a `ModelVersion` with ai.providers.local.training (the newest part is the holdout),
scores the deployed version on the same holdout, and deploys the new one only if it does better there (ties on
accuracy go to macro-F1); an admin may deploy any ready version anyway, which is also how rollback works.
Prediction runs on this server (the model only exists here); a prediction below the version's abstain threshold
is an abstention: the caller shows "no suggestion", never a guess from elsewhere.

Outcome models (kind "outcome": the probability that a lead is won, that a company churns) share the lifecycle:
their examples are records' fields with a yes/no outcome (`outcome_source_register`, `outcome_dataset_create`),
ai.providers.local.outcomes trains them, and "better" means a higher AUC on the same holdout (ties go to the lower
Brier score). A prediction is a calibrated probability with the fields that drove it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.outbox import enqueue_on_commit

from .contracts import (
    AIInputError,
    Classification,
    OutcomeData,
    OutcomeDriver,
    OutcomePrediction,
    RunMeta,
    TrainingData,
    TrainingReport,
)
from .models import AIRun, Dataset, Kind, ModelVersion
from .providers.local import outcomes, training
from .services import ai_run_record

logger = logging.getLogger(__name__)

MAX_NAME = 80
# The newest examples are kept when there are more: the model follows how the workspace labels today.
MAX_DATASET_EXAMPLES = 50_000
MAX_TEXT_CHARS = 4000
MAX_FIELDS = 60
MAX_FIELD_CHARS = 200
# A version still "training" this long after it was queued lost its job (a worker restart): it no longer blocks.
TRAINING_GIVES_UP_AFTER = timedelta(hours=3)
PROGRESS_EVERY = 0.01  # progress rows are written when the fraction moved at least this much, or the message changed


@dataclass(frozen=True)
class TrainingSource:
    name: str
    title: str  # shown on the models page, e.g. "Ticket category"
    collect: Callable[[], TrainingData | OutcomeData]
    description: str = ""
    kind: str = Kind.TEXT
    noun: str = "tickets"  # what its examples are, for the page: "the newest tickets/leads/companies"


_SOURCES: dict[str, TrainingSource] = {}


def training_source_register(
    name: str, *, title: str, collect: Callable[[], TrainingData], description: str = ""
) -> None:
    """Called by a domain app at start-up (AppConfig.ready): where the examples of classifier `name` come from."""
    _SOURCES[_check_name(name)] = TrainingSource(name, title, collect, description)


def outcome_source_register(
    name: str, *, title: str, collect: Callable[[], OutcomeData], description: str = "", noun: str = "records"
) -> None:
    """As training_source_register, for an outcome model: `collect()` returns its records' fields and outcomes."""
    _SOURCES[_check_name(name)] = TrainingSource(name, title, collect, description, Kind.OUTCOME, noun)


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
    _check_kind(name, Kind.TEXT)
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


def _check_kind(name: str, kind: str) -> None:
    """One name, one kind: a text classifier's versions cannot be compared with an outcome model's."""
    if ModelVersion.objects.filter(name=name).exclude(kind=kind).exists():
        raise AIInputError(f"“{name}” already names a model of another kind; choose another name.")


def _field_value(value: Any) -> str | int | float | None:
    value = outcomes.plain_value(value)  # Decimal → float, NaN/inf → missing, dates → text
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else value


def outcome_dataset_create(*, name: str, data: OutcomeData) -> Dataset:
    """Snapshots records' fields and their outcomes (oldest first) for the outcome model `name`."""
    name = _check_name(name)
    rows, results = list(data.rows), [bool(outcome) for outcome in data.outcomes]
    if len(rows) != len(results):
        raise AIInputError(f"Got {len(rows)} records but {len(results)} outcomes; every record needs its outcome.")
    if any(not isinstance(row, Mapping) for row in rows):
        raise AIInputError("Each record must be a mapping of field names to values.")
    if any(len(row) > MAX_FIELDS for row in rows):
        raise AIInputError(f"A record may have at most {MAX_FIELDS} fields.")
    _check_kind(name, Kind.OUTCOME)
    rows = [{str(key)[:80]: _field_value(value) for key, value in row.items()} for row in rows]
    rows, results = rows[-MAX_DATASET_EXAMPLES:], results[-MAX_DATASET_EXAMPLES:]
    labels = ["1" if outcome else "0" for outcome in results]
    happened, not_happened = (str(part)[:100] for part in (*data.outcome_names, "Yes", "No")[:2])
    counts = Counter(labels)
    return Dataset.objects.create(
        name=name,
        kind=Kind.OUTCOME,
        rows=rows,
        labels=labels,
        label_counts={"1": counts["1"], "0": counts["0"]},
        label_names={"1": happened, "0": not_happened},
        sources={str(key): int(value) for key, value in (data.sources or {}).items()},
        examples=len(rows),
        fingerprint=(data.fingerprint or "")[:64],
    )


def dataset_collect(name: str) -> Dataset:
    """A new dataset from the registered source of `name`; AIInputError when nothing provides its examples."""
    source = _SOURCES.get(_check_name(name))
    if source is None:
        raise AIInputError(f"Nothing in this workspace provides examples for “{name}”.")
    if source.kind == Kind.OUTCOME:
        return outcome_dataset_create(name=name, data=source.collect())
    return dataset_create(name=name, data=source.collect())


# --- Versions: start, train, deploy ------------------------------------------------------------------


def model_version_start(*, dataset: Dataset) -> ModelVersion:
    """A new version row (status "training", progress 0) numbered after the classifier's highest."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                top = ModelVersion.objects.filter(name=dataset.name).aggregate(top=Max("version"))["top"] or 0
                return ModelVersion.objects.create(
                    name=dataset.name, kind=dataset.kind, version=top + 1, dataset=dataset, progress_message="Queued"
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
        if dataset.kind == Kind.OUTCOME:
            result = outcomes.train(
                list(dataset.rows), [label == "1" for label in dataset.labels], progress=progress, names=_names(dataset)
            )
        else:
            result = training.train(list(dataset.texts), list(dataset.labels), progress=progress)
    except ValueError as error:
        return _fail(version, str(error))
    except Exception:
        logger.exception("training %s failed", version.label)
        return _fail(version, "Training hit an unexpected error. Try again; if it keeps failing, tell support.")
    return _finish(version, result)


def _names(dataset: Dataset) -> tuple[str, str]:
    """How the refusal names the outcomes, e.g. ("won", "lost")."""
    return (dataset.label_name("1").lower(), dataset.label_name("0").lower())


def _fail(version: ModelVersion, reason: str) -> ModelVersion:
    version.status, version.error = ModelVersion.Status.FAILED, reason
    version.progress_message = "Failed"
    version.save(update_fields=["status", "error", "progress_message"])
    return version


def _finish(version: ModelVersion, result: Any) -> ModelVersion:
    current = ModelVersion.objects.filter(name=version.name, deployed=True).exclude(pk=version.pk).first()
    current_evaluation = _evaluate_current(current, version.dataset, result.holdout_start)
    if version.kind == Kind.OUTCOME:
        evaluation, baseline = dict(result.evaluation), dict(result.baseline)
    else:
        evaluation, baseline = result.evaluation.as_dict(), result.baseline.as_dict()
    reference, against = (current_evaluation, f"v{current.version}") if current_evaluation else (baseline, "")
    better = (outcome_is_better if version.kind == Kind.OUTCOME else is_better)(evaluation, reference)
    version.status = ModelVersion.Status.READY
    version.progress, version.progress_message = 1.0, "Done"
    version.model_bytes = result.model_bytes
    version.evaluation, version.baseline, version.current_evaluation = evaluation, baseline, current_evaluation
    version.compared_with = current if current_evaluation else None
    version.holdout_start, version.params = result.holdout_start, dict(result.params)
    version.abstain_below = getattr(result, "abstain_below", None)
    version.training_seconds = round(result.seconds, 2)
    version.trained_at = timezone.now()
    decide = _outcome_decision if version.kind == Kind.OUTCOME else _decision
    version.decision = decide(better, evaluation, reference, against, current)
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
    labels = list(dataset.labels[holdout_start:])
    try:
        if dataset.kind == Kind.OUTCOME:
            rows = list(dataset.rows[holdout_start:])
            return outcomes.evaluate(bytes(current.model_bytes), rows, [label == "1" for label in labels])
        texts = list(dataset.texts[holdout_start:])
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


def outcome_is_better(candidate: dict, reference: dict | None) -> bool:
    """Higher held-out AUC wins (to 0.001); an equal AUC goes to the lower (better calibrated) Brier score. Always
    the base rate has AUC 0.5: a model that ranks no better than chance is not deployed."""
    auc = round(candidate["auc"], 3)
    if auc <= 0.5:
        return False
    if not reference:
        return True
    other_auc = round(reference["auc"], 3)
    if auc != other_auc:
        return auc > other_auc
    return round(candidate["brier"], 4) < round(reference["brier"], 4)


def _outcome_decision(
    better: bool, evaluation: dict, reference: dict, against: str, current: ModelVersion | None
) -> str:
    name = f"the deployed version ({against})" if against else "always the base rate (AUC 0.5)"
    figures = f"AUC {evaluation['auc']:.3f} against {reference['auc']:.3f} on the newest examples"
    if better:
        return f"Deployed: better than {name}, {figures}."
    if current is not None and not against:
        return f"Not deployed: the deployed v{current.version} could not be compared; it stays. {figures}."
    return f"Not deployed: not better than {name}, {figures}."


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
    if version.kind == Kind.OUTCOME:
        return _outcome_report(version)
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


def _outcome_report(version: ModelVersion) -> TrainingReport:
    dataset, evaluation, baseline = version.dataset, version.evaluation or {}, version.baseline or {}
    return TrainingReport(
        name=version.name,
        labels=("0", "1"),
        examples=dataset.examples,
        label_counts=dict(dataset.label_counts),
        accuracy=evaluation.get("accuracy"),
        fingerprint=dataset.fingerprint,
        trained_at=version.trained_at or version.created_at,
        version=version.version,
        status=version.status,
        deployed=version.deployed,
        baseline_accuracy=baseline.get("accuracy"),
        decision=version.decision or version.error,
        kind=Kind.OUTCOME,
        auc=evaluation.get("auc"),
        anchor_auc=(evaluation.get("anchor") or {}).get("auc"),
        brier=evaluation.get("brier"),
        baseline_brier=baseline.get("brier"),
    )


def classifier_train(*, name: str, data: TrainingData | OutcomeData, background: bool = False) -> TrainingReport:
    """A new version on these examples (texts, or an outcome model's records): trained here (the caller already
    is a background job) or queued."""
    create = outcome_dataset_create if isinstance(data, OutcomeData) else dataset_create
    with transaction.atomic():
        version = model_version_start(dataset=create(name=name, data=data))
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
        version = rows.defer("model_bytes", "dataset__texts", "dataset__labels", "dataset__rows").first()
    else:
        version = _deployed(name)
    return _report(version) if version else None


def _deployed(name: str) -> ModelVersion | None:
    rows = ModelVersion.objects.select_related("dataset").filter(name=_check_name(name), deployed=True)
    return rows.defer("model_bytes", "dataset__texts", "dataset__labels", "dataset__rows").first()


def _model_bytes(version_id: int) -> bytes:
    return bytes(ModelVersion.objects.values_list("model_bytes", flat=True).get(pk=version_id))


def classify_trained(*, name: str, text: str, feature: str, user=None) -> Classification | None:
    """The deployed version's label for `text` (`abstained` when it is not sure enough), or None when the workspace
    has no deployed version of that name. The ledger row names the version."""
    if not isinstance(text, str) or not text.strip():
        raise AIInputError("The text is empty.")
    version = _deployed(name)
    if version is None or version.kind != Kind.TEXT:
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


def outcome_predict(
    *, name: str, rows: Sequence[Mapping[str, Any]], feature: str, user=None, drivers: int = 5, record: bool = True
) -> list[OutcomePrediction] | None:
    """The deployed outcome model's calibrated probabilities and drivers for `rows`, or None when the workspace has
    no deployed outcome model of that name. With `record`, one ledger row per call names the version."""
    if any(not isinstance(row, Mapping) for row in rows):
        raise AIInputError("Each record must be a mapping of field names to values.")
    version = _deployed(name)
    if version is None or version.kind != Kind.OUTCOME:
        return None
    if not rows:
        return []
    started = time.perf_counter()
    key = (connection.schema_name, version.pk, version.trained_at)
    top = min(20, max(0, int(drivers)))
    try:
        scores = outcomes.predict_stored(key, lambda: _model_bytes(version.pk), list(rows), top=top)
    except ValueError:
        logger.warning("%s cannot be read by this code; retrain it", version.label, exc_info=True)
        return None
    latency = (time.perf_counter() - started) * 1000
    meta = _record_outcome(version, scores, feature, user, latency) if record else None
    return [
        OutcomePrediction(
            probability=score.probability,
            drivers=tuple(OutcomeDriver(d.field, d.value, d.contribution, d.phrase) for d in score.drivers),
            model=version.label,
            version=version.version,
            meta=meta,
        )
        for score in scores
    ]


def _record_outcome(version: ModelVersion, scores: list, feature: str, user, latency: float) -> RunMeta:
    first = scores[0]
    run = ai_run_record(
        user=user,
        feature=feature,
        operation="predict",
        provider="local",
        model=version.label,
        latency_ms=round(latency),
        status=AIRun.Status.OK,
        output_text=f"{first.probability:.0%}" if len(scores) == 1 else f"{len(scores)} predictions",
        output_data={
            "probability": first.probability if len(scores) == 1 else None,
            "probabilities": [score.probability for score in scores[:100]] if len(scores) > 1 else None,
            "drivers": [driver.phrase for driver in first.drivers] if len(scores) == 1 else None,
            "model": version.name,
            "model_version": version.version,
            "model_version_id": version.pk,
        },
    )
    return RunMeta(feature=feature, provider="local", model=version.label, run_id=run.pk, latency_ms=latency)


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
