"""Reads for the AI models page and API: the workspace's classifiers, their datasets and versions with evaluations.

Rows carry what the page shows, resolved here (label names, the comparison with the then-deployed version and the
majority baseline on the same holdout), so templates touch no ORM and the page costs a fixed number of queries.
Outcome models (kind "outcome") show AUC, the naive Bayes anchor's, the Brier score and the base rate instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from .classifiers import training_sources
from .models import Dataset, Kind, ModelVersion

DATASETS_SHOWN = 10


@dataclass(frozen=True)
class ClassifierEntry:
    name: str
    title: str
    description: str
    versions: int
    deployed_version: int | None
    trainable: bool  # a source provides its examples: "Train new version" works
    kind: str = Kind.TEXT
    noun: str = "tickets"  # what its examples are: "tested on the newest tickets/leads"

    @property
    def is_outcome(self) -> bool:
        return self.kind == Kind.OUTCOME


@dataclass(frozen=True)
class Score:
    """One model's figures on a holdout: this version, the then-deployed one, or always-the-commonest-label."""

    key: str  # "version" | "current" | "baseline"
    title: str
    accuracy: float | None
    macro_f1: float | None
    coverage: float | None
    answered_accuracy: float | None


@dataclass(frozen=True)
class OutcomeScore:
    """An outcome model's figures on a holdout: this version, the then-deployed one, the naive Bayes anchor, or
    always the base rate. AUC: how well it ranks (0.5 is chance); Brier: mean squared error of its probabilities."""

    key: str  # "version" | "current" | "anchor" | "baseline"
    title: str
    auc: float | None
    brier: float | None
    accuracy: float | None
    log_loss: float | None


@dataclass(frozen=True)
class ClassRow:
    label: str
    support: int
    precision: float | None
    recall: float | None
    current_recall: float | None


@dataclass(frozen=True)
class VersionRow:
    version: ModelVersion
    label_names: dict[str, str]
    scores: tuple[Score, ...] = ()
    classes: tuple[ClassRow, ...] = ()
    confusion_labels: tuple[str, ...] = ()
    confusion: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (true label, counts per predicted label)
    holdout_size: int = 0
    action: str = ""  # what an admin can do with it: "rollback" (older than the deployed one), "force" or ""
    chosen: str = ""  # what the holdout selected, in words
    outcome_scores: tuple[OutcomeScore, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()  # outcome models: (outcome name, examples) in the dataset
    holdout_counts: tuple[tuple[str, int], ...] = ()  # the same, in the holdout

    @property
    def margin_points(self) -> float | None:
        """Half the 95 % interval of the held-out accuracy, in points: what chance alone could move it by. With a
        holdout of 100 tickets it is about ±9 points, so small workspaces see how much their figure can be trusted."""
        accuracy = (self.version.evaluation or {}).get("accuracy")
        if accuracy is None or not self.holdout_size:
            return None
        return 196 * math.sqrt(accuracy * (1 - accuracy) / self.holdout_size)


@dataclass(frozen=True)
class DatasetRow:
    dataset: Dataset
    counts: tuple[tuple[str, int], ...]  # (label name, examples), commonest first


@dataclass(frozen=True)
class ClassifierPage:
    entry: ClassifierEntry
    datasets: tuple[DatasetRow, ...]
    versions: tuple[VersionRow, ...]
    deployed: ModelVersion | None
    training: ModelVersion | None
    chart: dict[str, Any] = field(default_factory=dict)


def _versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related("dataset", "compared_with").defer(
        "model_bytes", "dataset__texts", "dataset__labels", "dataset__rows", "compared_with__model_bytes"
    )


def classifier_list() -> list[ClassifierEntry]:
    """Registered classifiers (trainable from the workspace's data) and any other name with versions."""
    sources = training_sources()
    counts: dict[str, int] = {}
    deployed: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for name, number, is_deployed, kind in ModelVersion.objects.values_list("name", "version", "deployed", "kind"):
        counts[name] = counts.get(name, 0) + 1
        kinds[name] = kind
        if is_deployed:
            deployed[name] = number
    names = list(sources) + sorted(set(counts) - set(sources))
    return [
        ClassifierEntry(
            name=name,
            title=sources[name].title if name in sources else name,
            description=sources[name].description if name in sources else "",
            versions=counts.get(name, 0),
            deployed_version=deployed.get(name),
            trainable=name in sources,
            kind=sources[name].kind if name in sources else kinds.get(name, Kind.TEXT),
            noun=sources[name].noun if name in sources else "examples",
        )
        for name in names
    ]


def _score(key: str, title: str, evaluation: dict | None) -> Score | None:
    if not evaluation:
        return None
    return Score(
        key,
        title,
        evaluation.get("accuracy"),
        evaluation.get("macro_f1"),
        evaluation.get("coverage"),
        evaluation.get("answered_accuracy"),
    )


def _action(version: ModelVersion, deployed: int | None) -> str:
    if version.deployed or version.status != ModelVersion.Status.READY:
        return ""
    return "rollback" if deployed is not None and version.version < deployed else "force"


def _outcome_score(key: str, title: str, evaluation: dict | None) -> OutcomeScore | None:
    if not evaluation:
        return None
    return OutcomeScore(
        key,
        title,
        evaluation.get("auc"),
        evaluation.get("brier"),
        evaluation.get("accuracy"),
        evaluation.get("log_loss"),
    )


MODEL_WORDS = {"logistic": "logistic regression", "naive_bayes": "naive Bayes"}


def outcome_params_in_words(params: dict[str, Any]) -> str:
    """What the holdout chose: "logistic regression, fit C 1, rare outcome weighted up, calibrated (Platt)"."""
    parts = [MODEL_WORDS.get(str(params.get("model")), str(params.get("model") or ""))]
    if params.get("C") is not None:
        parts.append(f"fit C {params['C']:g}")
    if params.get("class_weight") == "balanced":
        parts.append("rarer outcome weighted up")
    if params.get("calibration") in {"platt", "isotonic"}:
        parts.append(f"probabilities calibrated ({'Platt' if params['calibration'] == 'platt' else 'isotonic'})")
    return ", ".join(part for part in parts if part)


def _outcome_row(version: ModelVersion, names: dict[str, str], action: str) -> VersionRow:
    evaluation = version.evaluation or {}
    current_title = f"v{version.compared_with.version} (deployed then)" if version.compared_with else "Deployed then"
    scores = tuple(
        score
        for score in (
            _outcome_score("version", f"v{version.version}", evaluation),
            _outcome_score("current", current_title, version.current_evaluation),
            _outcome_score("anchor", "Naive Bayes over field values (the anchor)", evaluation.get("anchor")),
            _outcome_score("baseline", "Always the base rate", version.baseline),
        )
        if score
    )
    holdout = int(evaluation.get("holdout_size", 0))
    chosen = outcome_params_in_words(version.params or {})
    return VersionRow(
        version,
        names,
        holdout_size=holdout,
        action=action,
        chosen=chosen,
        outcome_scores=scores,
        counts=_outcome_counts(version),
        holdout_counts=(
            (names.get("1", "yes").lower(), int(evaluation.get("positives", 0))),
            (names.get("0", "no").lower(), int(evaluation.get("negatives", 0))),
        ),
    )


def _outcome_counts(version: ModelVersion) -> tuple[tuple[str, int], ...]:
    names, counts = version.dataset.label_names or {}, version.dataset.label_counts or {}
    pairs = (("1", "Yes"), ("0", "No"))
    return tuple((names.get(label, default), int(counts.get(label, 0))) for label, default in pairs)


def version_row(version: ModelVersion, deployed: int | None = None) -> VersionRow:
    names = version.dataset.label_names or {}
    evaluation = version.evaluation or {}
    action = _action(version, deployed)
    if not evaluation:
        counts = _outcome_counts(version) if version.kind == Kind.OUTCOME else ()
        return VersionRow(version, names, action=action, counts=counts)
    if version.kind == Kind.OUTCOME:
        return _outcome_row(version, names, action)
    current_title = f"v{version.compared_with.version} (deployed then)" if version.compared_with else "Deployed then"
    scores = tuple(
        score
        for score in (
            _score("version", f"v{version.version}", evaluation),
            _score("current", current_title, version.current_evaluation),
            _score("baseline", "Always the commonest label", version.baseline),
        )
        if score
    )
    current_classes = (version.current_evaluation or {}).get("per_class") or {}
    classes = tuple(
        ClassRow(
            label=names.get(label, label),
            support=int(figures.get("support", 0)),
            precision=figures.get("precision"),
            recall=figures.get("recall"),
            current_recall=(current_classes.get(label) or {}).get("recall"),
        )
        for label, figures in sorted(
            (evaluation.get("per_class") or {}).items(), key=lambda item: -item[1].get("support", 0)
        )
    )
    labels = tuple(names.get(label, label) for label in evaluation.get("labels") or ())
    matrix = evaluation.get("confusion") or ()
    confusion = tuple((label, tuple(int(cell) for cell in row)) for label, row in zip(labels, matrix, strict=False))
    holdout = int(evaluation.get("holdout_size", 0))
    chosen = params_in_words(version.params or {})
    return VersionRow(version, names, scores, classes, labels, confusion, holdout, action, chosen)


FEATURE_WORDS = {"tfidf": "words", "char": "word parts", "minilm": "sentence meaning (MiniLM)"}


def params_in_words(params: dict[str, Any]) -> str:
    """What the holdout chose, as an admin reads it: "words + word parts, fit C 10, calibrated confidence"."""
    parts = []
    if params.get("features"):
        parts.append(" + ".join(FEATURE_WORDS.get(part, part) for part in str(params["features"]).split("+")))
    if params.get("C") is not None:
        # C is the inverse of the regularisation: higher fits the examples more closely.
        parts.append(f"fit C {params['C']:g}" if isinstance(params["C"], int | float) else "")
    if params.get("class_weight") == "balanced":
        parts.append("rare labels weighted up")
    if params.get("temperature") is not None:
        parts.append("calibrated confidence")
    return ", ".join(part for part in parts if part)


def _dataset_row(dataset: Dataset) -> DatasetRow:
    counts = sorted(dataset.label_counts.items(), key=lambda item: -item[1])
    return DatasetRow(dataset, tuple((dataset.label_name(label), count) for label, count in counts))


def _outcome_chart(ready: list[ModelVersion]) -> dict[str, Any]:
    """Held-out AUC per version next to the naive Bayes anchor's on the same holdout."""
    return {
        "type": "line",
        "labels": [f"v{version.version}" for version in ready],
        "datasets": [
            {
                "label": "Held-out AUC",
                "data": [round(version.evaluation.get("auc", 0), 3) for version in ready],
                "color": "#3b5bdb",
            },
            {
                "label": "Naive Bayes anchor",
                "data": [round((version.evaluation.get("anchor") or {}).get("auc", 0), 3) for version in ready],
                "color": "#868e96",
            },
        ],
    }


def _chart(versions: list[ModelVersion]) -> dict[str, Any]:
    """Held-out accuracy per version next to the majority baseline's (static/js/charts.js format); for outcome
    models the AUC next to the anchor's."""
    ready = [version for version in reversed(versions) if version.evaluation]
    if len(ready) < 2:
        return {}
    if ready[0].kind == Kind.OUTCOME:
        return _outcome_chart(ready)
    return {
        "type": "line",
        "unit": "percent",
        "labels": [f"v{version.version}" for version in ready],
        "datasets": [
            {
                "label": "Held-out accuracy",
                "data": [round(version.evaluation["accuracy"] * 100, 1) for version in ready],
                "color": "#3b5bdb",
            },
            {
                "label": "Always the commonest label",
                "data": [round((version.baseline or {}).get("accuracy", 0) * 100, 1) for version in ready],
                "color": "#868e96",
            },
        ],
    }


def classifier_page(*, name: str) -> ClassifierPage | None:
    entry = next((entry for entry in classifier_list() if entry.name == name), None)
    if entry is None:
        return None
    versions = list(_versions().filter(name=name).order_by("-version"))
    datasets = Dataset.objects.filter(name=name).defer("texts", "labels", "rows").order_by("-created_at", "-id")
    deployed = next((version for version in versions if version.deployed), None)
    number = deployed.version if deployed else None
    return ClassifierPage(
        entry=entry,
        datasets=tuple(_dataset_row(dataset) for dataset in datasets[:DATASETS_SHOWN]),
        versions=tuple(version_row(version, number) for version in versions),
        deployed=deployed,
        training=next((version for version in versions if version.status == ModelVersion.Status.TRAINING), None),
        chart=_chart(versions),
    )


def classifier_noun(name: str) -> str:
    """What the examples of `name` are called on the page ("tickets", "leads")."""
    source = training_sources().get(name)
    return source.noun if source else "examples"


def model_version_get(*, version_id: int) -> ModelVersion | None:
    return _versions().filter(pk=version_id).first()


def model_version_list(*, name: str | None = None) -> QuerySet[ModelVersion]:
    rows = _versions().order_by("name", "-version")
    return rows.filter(name=name) if name else rows
