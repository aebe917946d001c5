"""Per-workspace trainable classifiers: word and character TF-IDF (+ the local MiniLM embeddings) and a linear
SVM, chosen, calibrated (a softmax temperature) and scored on the newest examples.

Inputs are ordered oldest first. The newest `holdout_fraction` of them is the holdout: every configuration is fitted
on the older part and scored there (never shuffled cross-validation: a workspace's categories drift, and the figure
an admin reads must say how the model does on tickets that come after the ones it learnt from). The holdout picks
the feature set, C and class_weight, fits a softmax temperature (so confidences are calibrated probabilities) and the
abstain threshold; then the chosen configuration is refitted on every example.

Bench (bench/ai_triage.py, 8 IT-ticket topics, 5,000 test tickets): see bench/README.md.

The model is a `.npz` archive of plain arrays, never a pickle: the bytes are stored in the database, and loading a
pickle from a row would execute whatever it says. Text features are hashed (HashingVectorizer), so no vocabulary is
stored: only the hashed columns seen in training, their idf weights and their coefficients (float16).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import HashingVectorizer

from .encoder import MODEL_NAME

FORMAT_VERSION = 2
MIN_EXAMPLES = 10
MIN_HOLDOUT = 5
WORD_BITS = 22  # fewer collisions than 2**20 (+0.2 points at 42,837); only the columns seen are stored
CHAR_BITS = 20
# Embedding a ticket costs 6–10 ms of CPU, more than everything else in training together; beyond this many examples
# the TF-IDF features have enough data on their own (bench/ai_triage.py: at 8,000 the embeddings no longer help)
# and embedding would take most of the time budget.
EMBED_UP_TO = 3_000
# Only the start of a ticket is embedded: the subject and first lines carry the topic, and it bounds a single
# prediction's forward pass (a 280-word ticket costs ~30 ms in full).
EMBED_MAX_WORDS = 64
C_DEFAULT = 0.3
C_CHOICES = (0.1, 1.0)
# Abstain where a suggestion is more often wrong than right (or no better than always guessing the commonest label).
ABSTAIN_TARGET = 0.5
ABSTAIN_GRID = tuple(round(0.05 * i, 2) for i in range(1, 19))
MIN_ABSTAINED = 5

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Evaluation:
    holdout_size: int
    accuracy: float
    macro_f1: float
    coverage: float
    answered_accuracy: float
    labels: tuple[str, ...]
    per_class: dict[str, dict[str, float]]
    confusion: tuple[tuple[int, ...], ...]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["labels"] = list(self.labels)
        data["confusion"] = [list(row) for row in self.confusion]
        return data


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    abstained: bool


@dataclass(frozen=True)
class TrainingResult:
    model_bytes: bytes
    evaluation: Evaluation
    baseline: Evaluation
    holdout_start: int
    params: dict
    abstain_below: float
    seconds: float


# --- features --------------------------------------------------------------------------------------------------


def _word_hasher() -> HashingVectorizer:
    from sklearn.feature_extraction.text import HashingVectorizer  # ~1.5 s to import: only once a model is used

    return HashingVectorizer(
        ngram_range=(1, 2), n_features=2**WORD_BITS, alternate_sign=False, norm=None, dtype=np.float32
    )


def _char_hasher() -> HashingVectorizer:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5),
        n_features=2**CHAR_BITS,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


@dataclass
class _TextBlock:
    """One hashed TF-IDF block: the columns kept (seen in training) and their idf weights."""

    columns: np.ndarray  # int32, ascending
    idf: np.ndarray  # float32

    @classmethod
    def fit(cls, counts: sp.csr_matrix) -> _TextBlock:
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        # Columns seen once add nothing a held-out ticket can use, and at scale most hashed columns are such.
        min_df = 1 if n < 2000 else 2
        columns = np.flatnonzero(df >= min_df).astype(np.int32)
        idf = (np.log((1 + n) / (1 + df[columns])) + 1).astype(np.float32)
        return cls(columns, idf)

    def transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf × idf on the kept columns, unit rows. Linear in the counts' non-zeros (a column slice of
        the hashed matrix would cost as much as the columns kept, for every single ticket)."""
        from sklearn.preprocessing import normalize

        counts = counts.tocsr()
        position = np.searchsorted(self.columns, counts.indices)
        position = np.minimum(position, max(len(self.columns) - 1, 0))
        kept = self.columns[position] == counts.indices if len(self.columns) else np.zeros(0, dtype=bool)
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))[kept]
        values = (1 + np.log(counts.data[kept])) * self.idf[position[kept]]
        matrix = sp.csr_matrix((values, (rows, position[kept])), shape=(counts.shape[0], len(self.columns)))
        return normalize(matrix, copy=False).astype(np.float32)


def _embed(texts: Sequence[str]) -> np.ndarray:
    from . import get_local_provider

    # A short text goes in as it is (same word pieces as its joined words), so a ticket the analysis just embedded
    # comes from the provider's document cache.
    starts = [
        text if len(words := text.split()) <= EMBED_MAX_WORDS else " ".join(words[:EMBED_MAX_WORDS]) for text in texts
    ]
    return get_local_provider().embed_array(starts).astype(np.float32)


class _Raw:
    """Hashed counts (and embeddings, when asked) of the examples, computed once and sliced per fit."""

    def __init__(self, texts: Sequence[str], embed: bool) -> None:
        self.word = _word_hasher().transform(texts).tocsr()
        self.char = _char_hasher().transform(texts).tocsr()
        self.embeddings = _embed(texts) if embed else None

    def rows(self, part: slice) -> _Raw:
        raw = object.__new__(_Raw)
        raw.word, raw.char = self.word[part], self.char[part]
        raw.embeddings = None if self.embeddings is None else self.embeddings[part]
        return raw


def _matrix(raw: _Raw, word: _TextBlock, char: _TextBlock, with_embeddings: bool) -> sp.csr_matrix:
    blocks = [word.transform(raw.word), char.transform(raw.char)]
    if with_embeddings:
        blocks.append(sp.csr_matrix(raw.embeddings))
    return sp.hstack(blocks, format="csr")


# --- the model ---------------------------------------------------------------------------------------------------


@dataclass
class _Model:
    classes: np.ndarray
    word: _TextBlock
    char: _TextBlock
    coef: np.ndarray  # (classes, word + char [+ 384]) float32
    intercept: np.ndarray
    with_embeddings: bool
    temperature: float
    abstain_below: float
    params: dict

    def logits(self, raw: _Raw) -> np.ndarray:
        features = _matrix(raw, self.word, self.char, self.with_embeddings)
        return np.asarray(features @ self.coef.T) + self.intercept

    def probabilities(self, raw: _Raw) -> np.ndarray:
        return _softmax(self.logits(raw) / self.temperature)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _fit(raw: _Raw, labels: Sequence[str], params: dict) -> _Model:
    from sklearn.svm import LinearSVC

    word, char = _TextBlock.fit(raw.word), _TextBlock.fit(raw.char)
    with_embeddings = "minilm" in params["features"]
    # A linear SVM (one-vs-rest): as accurate as a logistic regression on these features, 5–20× faster to fit;
    # its margins become probabilities by the softmax temperature fitted on the holdout.
    regression = LinearSVC(C=params["C"], class_weight=params["class_weight"])
    regression.fit(_matrix(raw, word, char, with_embeddings), list(labels))
    coef, intercept = regression.coef_, regression.intercept_
    if coef.shape[0] == 1:  # two classes: sklearn keeps one row; the softmax of (-z/2, z/2) is the same sigmoid
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return _Model(
        classes=np.asarray(regression.classes_, dtype=str),
        word=word,
        char=char,
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
        with_embeddings=with_embeddings,
        temperature=1.0,
        abstain_below=0.0,
        params=dict(params),
    )


def _fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature that minimises the holdout's negative log-likelihood (argmax unchanged)."""
    known = truth >= 0
    if known.sum() < MIN_HOLDOUT:
        return 1.0
    logits, truth = logits[known], truth[known]

    def loss(log_t: float) -> float:
        scaled = logits / np.exp(log_t)
        scaled -= scaled.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(log_z - scaled[np.arange(len(truth)), truth]))

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 3.0), method="bounded").x))


def _abstain_threshold(confidences: np.ndarray, correct: np.ndarray, floor: float) -> float:
    """The highest cut below which the holdout's predictions were right less often than the target."""
    target = max(ABSTAIN_TARGET, floor)
    chosen = 0.0
    for cut in ABSTAIN_GRID:
        below = confidences < cut
        if below.sum() >= MIN_ABSTAINED and correct[below].mean() < target:
            chosen = cut
    return chosen


# --- serialisation -----------------------------------------------------------------------------------------------


def _dump(model: _Model) -> bytes:
    words = len(model.word.columns)
    chars = len(model.char.columns)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        meta=np.asarray([str(FORMAT_VERSION), MODEL_NAME, json.dumps(model.params)]),
        classes=model.classes,
        word_columns=model.word.columns,
        word_idf=model.word.idf.astype(np.float16),
        char_columns=model.char.columns,
        char_idf=model.char.idf.astype(np.float16),
        word_coef=model.coef[:, :words].astype(np.float16),
        char_coef=model.coef[:, words : words + chars].astype(np.float16),
        embedding_coef=model.coef[:, words + chars :].astype(np.float16),
        intercept=model.intercept,
        calibration=np.asarray([model.temperature, model.abstain_below], dtype=np.float64),
    )
    return buffer.getvalue()


def _parse(model_bytes: bytes) -> _Model:
    try:
        archive = np.load(io.BytesIO(model_bytes), allow_pickle=False)
        version, embedding_model, params = (str(value) for value in archive["meta"])
        if version != str(FORMAT_VERSION):
            raise ValueError(f"Classifier format {version} cannot be read by format {FORMAT_VERSION}; retrain it.")
        if embedding_model != MODEL_NAME:
            raise ValueError(f"This classifier was trained on {embedding_model} embeddings; retrain it.")
        embedding_coef = archive["embedding_coef"].astype(np.float32)
        temperature, abstain_below = (float(value) for value in archive["calibration"])
        return _Model(
            classes=archive["classes"],
            word=_TextBlock(archive["word_columns"], archive["word_idf"].astype(np.float32)),
            char=_TextBlock(archive["char_columns"], archive["char_idf"].astype(np.float32)),
            coef=np.hstack(
                [archive["word_coef"].astype(np.float32), archive["char_coef"].astype(np.float32), embedding_coef]
            ),
            intercept=archive["intercept"].astype(np.float32),
            with_embeddings=embedding_coef.shape[1] > 0,
            temperature=temperature,
            abstain_below=abstain_below,
            params=json.loads(params),
        )
    except ValueError as error:
        if "retrain" in str(error):
            raise
        raise ValueError("These bytes are not a classifier trained by train().") from error
    except (OSError, KeyError, EOFError) as error:
        raise ValueError("These bytes are not a classifier trained by train().") from error


_loaded: OrderedDict[Hashable, _Model] = OrderedDict()
_loaded_lock = threading.Lock()
_LOADED_MODELS = 8


def _load(model_bytes: bytes) -> _Model:
    """Parsed models, kept by digest: a ticket's prediction should not re-read a few MB of arrays."""
    return _load_as(hashlib.blake2b(model_bytes, digest_size=16).digest(), lambda: model_bytes)


def _load_as(key: Hashable, model_bytes: Callable[[], bytes]) -> _Model:
    with _loaded_lock:
        if key in _loaded:
            _loaded.move_to_end(key)
            return _loaded[key]
    model = _parse(model_bytes())
    with _loaded_lock:
        _loaded[key] = model
        while len(_loaded) > _LOADED_MODELS:
            _loaded.popitem(last=False)
    return model


# --- scoring -----------------------------------------------------------------------------------------------------


def _evaluation(
    truth: Sequence[str], predicted: Sequence[str], confidences: np.ndarray | None, abstain_below: float
) -> Evaluation:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    truth, predicted = [str(label) for label in truth], [str(label) for label in predicted]
    labels = sorted(set(truth) | set(predicted))
    if not labels:
        return Evaluation(0, 0.0, 0.0, 0.0, 0.0, (), {}, ())
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    correct = np.asarray([t == p for t, p in zip(truth, predicted, strict=True)], dtype=bool)
    answered = np.ones(len(truth), dtype=bool) if confidences is None else confidences >= abstain_below
    size = len(truth)
    return Evaluation(
        holdout_size=size,
        accuracy=round(float(correct.mean()), 4) if size else 0.0,
        macro_f1=round(float(np.mean(f1)), 4) if labels else 0.0,
        coverage=round(float(answered.mean()), 4) if size else 0.0,
        answered_accuracy=round(float(correct[answered].mean()), 4) if answered.any() else 0.0,
        labels=tuple(labels),
        per_class={
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        confusion=tuple(tuple(int(v) for v in row) for row in confusion_matrix(truth, predicted, labels=labels))
        if labels
        else (),
    )


def majority_baseline(train_labels: Sequence[str], holdout_labels: Sequence[str]) -> Evaluation:
    """Always the commonest label of `train_labels` (ties: the one seen first), scored on `holdout_labels`."""
    if not train_labels:
        raise ValueError("The baseline needs at least one training label.")
    commonest = Counter(train_labels).most_common(1)[0][0]
    return _evaluation(holdout_labels, [commonest] * len(holdout_labels), None, 0.0)


def evaluate(model_bytes: bytes, texts: Sequence[str], labels: Sequence[str]) -> Evaluation:
    """A stored model's figures on any labelled slice, at the model's own abstain threshold."""
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels; every text needs exactly one label.")
    model = _load(model_bytes)
    if not texts:
        return _evaluation([], [], np.zeros(0), model.abstain_below)
    probabilities = model.probabilities(_Raw([str(text) for text in texts], model.with_embeddings))
    best = probabilities.argmax(axis=1)
    return _evaluation(labels, model.classes[best], probabilities.max(axis=1), model.abstain_below)


def predict(model_bytes: bytes, texts: Sequence[str]) -> list[Prediction]:
    """The label, its calibrated probability and whether to abstain, for each text in order."""
    return _predict(_load(model_bytes), texts) if texts else []


def predict_stored(key: Hashable, model_bytes: Callable[[], bytes], texts: Sequence[str]) -> list[Prediction]:
    """As predict(), for a stored model that `key` names for good (e.g. its row and training time): its bytes,
    megabytes at times, are read with `model_bytes()` only when this process has not parsed that model yet."""
    return _predict(_load_as(key, model_bytes), texts) if texts else []


def _predict(model: _Model, texts: Sequence[str]) -> list[Prediction]:
    probabilities = model.probabilities(_Raw([str(text) for text in texts], model.with_embeddings))
    best = probabilities.argmax(axis=1)
    return [
        Prediction(
            label=str(model.classes[i]), confidence=round(float(p[i]), 4), abstained=bool(p[i] < model.abstain_below)
        )
        for i, p in zip(best, probabilities, strict=True)
    ]


# --- training ----------------------------------------------------------------------------------------------------


def _validate(texts: Sequence[str], labels: Sequence[str], holdout_fraction: float) -> int:
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels; every text needs exactly one label.")
    if any(not isinstance(text, str) or not text.strip() for text in texts):
        raise ValueError("Training texts must not be empty.")
    if any(not isinstance(label, str) or not label.strip() for label in labels):
        raise ValueError("Labels must not be empty.")
    if len(set(labels)) < 2:
        raise ValueError("A classifier needs examples of at least two different labels.")
    if len(texts) < MIN_EXAMPLES:
        raise ValueError(f"A classifier needs at least {MIN_EXAMPLES} labelled examples; got {len(texts)}.")
    if not 0 < holdout_fraction < 1:
        raise ValueError("holdout_fraction must be between 0 and 1.")
    holdout_start = len(texts) - max(MIN_HOLDOUT, round(len(texts) * holdout_fraction))
    if len(set(labels[:holdout_start])) < 2:
        raise ValueError(
            "The older examples all have the same label, so there is nothing to learn before the newest ones; "
            "label more examples of other kinds."
        )
    return holdout_start


def _candidates(embed: bool) -> list[list[dict]]:
    """Rounds of configurations; each round varies one setting around the best so far."""
    base = {"features": "tfidf+char", "C": C_DEFAULT, "class_weight": None}
    rounds = [[base]]
    if embed:
        rounds[0].append({**base, "features": "tfidf+char+minilm"})
    rounds.append([{"C": c} for c in C_CHOICES])
    rounds.append([{"class_weight": "balanced"}])
    return rounds


def train(
    texts: Sequence[str], labels: Sequence[str], *, progress: Progress | None = None, holdout_fraction: float = 0.2
) -> TrainingResult:
    """Selects, calibrates and scores a classifier on the newest examples, then refits it on all of them."""
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    texts, labels = [str(t) for t in texts], [str(label).strip() for label in labels]
    holdout_start = _validate(texts, labels, holdout_fraction)
    embed = len(texts) <= EMBED_UP_TO
    report(0.0, "Reading the examples" + (" (embedding them)" if embed else ""))
    raw = _Raw(texts, embed)
    older, newer = raw.rows(slice(0, holdout_start)), raw.rows(slice(holdout_start, None))
    older_labels, newer_labels = labels[:holdout_start], labels[holdout_start:]
    report(0.4, "Choosing the configuration on the newest examples")

    def score(params: dict) -> tuple[float, _Model, np.ndarray]:
        model = _fit(older, older_labels, params)
        logits = model.logits(newer)
        predicted = model.classes[logits.argmax(axis=1)]
        correct = np.mean(predicted == np.asarray(newer_labels))
        return float(correct), model, logits

    best = None
    rounds = _candidates(embed)
    for number, round_ in enumerate(rounds):
        for change in round_:
            params = change if best is None else {**best[1], **change}
            accuracy, model, logits = score(params)
            if best is None or accuracy > best[0]:
                best = (accuracy, params, model, logits)
        report(0.4 + 0.4 * (number + 1) / len(rounds), f"Tried {number + 1} of {len(rounds)} rounds")
    _, params, model, logits = best

    index = {label: i for i, label in enumerate(model.classes)}
    truth = np.asarray([index.get(label, -1) for label in newer_labels])
    temperature = _fit_temperature(logits, truth)
    probabilities = _softmax(logits / temperature)
    confidences = probabilities.max(axis=1)
    predicted = model.classes[probabilities.argmax(axis=1)]
    baseline = majority_baseline(older_labels, newer_labels)
    correct = predicted == np.asarray(newer_labels)
    abstain_below = _abstain_threshold(confidences, correct, baseline.accuracy)
    evaluation = _evaluation(newer_labels, predicted, confidences, abstain_below)

    report(0.85, "Refitting on every example")
    final = _fit(raw, labels, params)
    final.temperature, final.abstain_below = temperature, abstain_below
    model_bytes = _dump(final)
    report(1.0, "Done")
    return TrainingResult(
        model_bytes=model_bytes,
        evaluation=evaluation,
        baseline=baseline,
        holdout_start=holdout_start,
        params={**params, "temperature": round(temperature, 4)},
        abstain_below=abstain_below,
        seconds=round(time.perf_counter() - started, 3),
    )
