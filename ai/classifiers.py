"""Named per-workspace classifiers trained on the local embeddings: train, describe, predict (with a ledger row).

A domain app (the helpdesk: ticket categories) hands in texts an agent labelled; the model is stored in the
workspace schema and used instead of zero-shot classification once it exists. Prediction runs on this server
(no provider chain: the model only exists here) and leaves an AIRun row like every other facade call, so an
agent's feedback on the suggestion is recorded against it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from django.utils import timezone

from .contracts import AIInputError, Classification, RunMeta, TrainingReport
from .models import AIRun, TrainedClassifier
from .providers.local import training
from .providers.local.encoder import MODEL_NAME
from .services import ai_run_record

MAX_NAME = 80
MAX_TRAINING_EXAMPLES = 5000


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise AIInputError(f"A classifier needs a name of 1 to {MAX_NAME} characters.")
    return name


def _report(row: TrainedClassifier) -> TrainingReport:
    return TrainingReport(
        name=row.name,
        labels=tuple(row.labels),
        examples=row.examples,
        label_counts=dict(row.label_counts),
        accuracy=row.accuracy,
        fingerprint=row.fingerprint,
        trained_at=row.trained_at,
    )


def classifier_train(
    *, name: str, texts: Sequence[str], labels: Sequence[str], fingerprint: str = ""
) -> TrainingReport:
    """Fits (or refits) the named classifier; AIInputError when the examples cannot make one."""
    name = _check_name(name)
    texts, labels = [str(text) for text in texts], [str(label).strip() for label in labels]
    if len(texts) > MAX_TRAINING_EXAMPLES:
        raise AIInputError(f"At most {MAX_TRAINING_EXAMPLES:,} examples can be used to train a classifier.")
    try:
        result = training.train(texts, labels)
        model_bytes, accuracy = result.model_bytes, result.evaluation.accuracy
    except ValueError as error:
        raise AIInputError(str(error)) from None
    counts = Counter(labels)
    row, _ = TrainedClassifier.objects.update_or_create(
        name=name,
        defaults={
            "labels": sorted(counts),
            "label_counts": dict(sorted(counts.items())),
            "examples": len(texts),
            "accuracy": round(accuracy, 4) if accuracy is not None else None,
            "embedding_model": MODEL_NAME,
            "fingerprint": fingerprint[:64],
            "model_bytes": model_bytes,
            "trained_at": timezone.now(),
        },
    )
    return _report(row)


def classifier_status(name: str) -> TrainingReport | None:
    row = TrainedClassifier.objects.defer("model_bytes").filter(name=_check_name(name)).first()
    return _report(row) if row else None


def classifier_delete(name: str) -> bool:
    deleted, _ = TrainedClassifier.objects.filter(name=_check_name(name)).delete()
    return bool(deleted)


def classify_trained(*, name: str, text: str, feature: str, user=None) -> Classification | None:
    """The trained model's label for `text`, or None when the workspace has no usable classifier of that name."""
    if not isinstance(text, str) or not text.strip():
        raise AIInputError("The text is empty.")
    row = TrainedClassifier.objects.filter(name=_check_name(name), embedding_model=MODEL_NAME).first()
    if row is None:
        return None
    started = time.perf_counter()
    try:
        (prediction,) = training.predict(bytes(row.model_bytes), [text])
        label, confidence = prediction.label, prediction.confidence
    except ValueError:
        return None  # stored by an older format: unusable until retrained, like no model at all
    latency = (time.perf_counter() - started) * 1000
    model = f"{MODEL_NAME}+logreg:{row.name}"
    run = ai_run_record(
        user=user,
        feature=feature,
        operation="classify",
        provider="local",
        model=model,
        latency_ms=round(latency),
        status=AIRun.Status.OK,
        output_text=label,
        output_data={"label": label, "confidence": confidence, "classifier": row.name, "examples": row.examples},
    )
    meta = RunMeta(feature=feature, provider="local", model=model, run_id=run.pk, latency_ms=latency)
    return Classification(label=label, confidence=float(confidence), scores={label: float(confidence)}, meta=meta)


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
