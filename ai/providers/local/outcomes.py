"""Per-workspace outcome models: the probability that a record (a lead, a company) ends in a yes/no outcome (won,
churned), learnt from its fields, with the fields that drove it.

Inputs are rows (field → str for a category, int/float for a number, None or "" when missing) and outcomes,
OLDEST FIRST. The newest fifth is the holdout (never shuffled: the figure an admin reads must say how the model does
on records that come after the ones it learnt from); it is widened back in time until it holds enough of each
outcome for an AUC to mean something. Candidates, each fitted on the older part and scored there by AUC:

- logistic regression on one-hot categories (values seen fewer than `RARE_BELOW` times grouped as "other", missing
  its own value) and standardised numbers (log1p first where they are skewed, like money; a missing number is the
  mean plus a "missing" indicator), over a small grid of C and class_weight;
- the anchor: a naive Bayes over field values like Odoo's predictive lead scoring (per-field value frequencies among
  won and lost records, Laplace smoothing, numbers binned into quantiles, missing as a value).

The best AUC is chosen (the anchor may win; then it is the model). Its probabilities are calibrated on the holdout
(Platt's sigmoid on its log-odds; isotonic instead when the holdout has `ISOTONIC_FROM` records or more and its
cross-fitted Brier score is lower); the calibrated figures reported (Brier, log loss, accuracy at 0.5) are
cross-fitted, each half of the holdout calibrated on the other, so they are not flattered by calibrating and
scoring on the same records. Then the chosen configuration is refitted on every row.

Drivers: for the regression, a field's contribution to the log-odds is coefficient × standardised value (one-hot:
the coefficient of the present value, less the training-weighted mean of the field's coefficients, so a value most
records share drives nothing); for the naive Bayes, the field's log-likelihood ratio. Platt's slope scales both.

The model is a `.npz` archive of plain arrays and a JSON description, never a pickle (the bytes live in a row).
Bench: bench/ai_outcomes.py, figures in bench/README.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

FORMAT = "outcome-1"
MIN_PER_CLASS = 20  # of each outcome in all the rows: fewer and neither the model nor its AUC can be trusted
MIN_HOLDOUT_PER_CLASS = 5
HOLDOUT_FRACTION = 0.2
MAX_HOLDOUT_FRACTION = 0.5
RARE_BELOW = 3  # category values seen fewer times in training are grouped ("other")
MAX_VALUES_PER_FIELD = 40
NB_BINS = 5
ISOTONIC_FROM = 1000  # holdout rows; below, isotonic steps overfit and Platt's two parameters do better
C_GRID = (0.1, 1.0, 10.0)
WEIGHTS = (None, "balanced")
CLIP = 1e-4
OTHER, MISSING = "(other)", "(missing)"

Progress = Callable[[float, str], None]
Value = str | int | float | None


@dataclass(frozen=True)
class OutcomeEvaluation:
    holdout_size: int
    positives: int
    negatives: int
    auc: float
    accuracy: float
    brier: float
    log_loss: float
    mean_probability: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Driver:
    field: str
    value: str  # as shown to people
    contribution: float  # to the log-odds
    phrase: str


@dataclass(frozen=True)
class OutcomeScore:
    probability: float
    drivers: tuple[Driver, ...]


@dataclass(frozen=True)
class OutcomeTrainingResult:
    model_bytes: bytes
    evaluation: dict  # the chosen model's OutcomeEvaluation, with "anchor" (the naive Bayes's) and "chosen"
    baseline: dict  # always the base rate of the older rows, same holdout
    holdout_start: int
    params: dict
    seconds: float


# --- values ------------------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _category(value: Any) -> str:
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()[:200]


def _field_kinds(rows: Sequence[Mapping[str, Value]]) -> dict[str, str]:
    """A field is numeric when every value given is a number, else categorical; fields are sorted by name."""
    kinds: dict[str, str] = {}
    for row in rows:
        for name, value in row.items():
            if _is_missing(value):
                kinds.setdefault(str(name), "")
            elif _is_number(value):
                kinds[str(name)] = kinds.get(str(name)) or "num"
            else:
                kinds[str(name)] = "cat"
    return {name: kind or "cat" for name, kind in sorted(kinds.items())}


def _number(row: Mapping[str, Value], name: str) -> float:
    value = row.get(name)
    if _is_missing(value) or not _is_number(value):
        return math.nan
    return float(value)


# --- the encoding shared by both models ---------------------------------------------------------------------------


@dataclass
class _Schema:
    """What training learnt about the fields: categories kept, how numbers are scaled and binned."""

    kinds: dict[str, str]
    values: dict[str, list[str]] = field(default_factory=dict)  # categorical: kept values (+ OTHER, MISSING)
    frequencies: dict[str, list[float]] = field(default_factory=dict)  # share of training rows per kept value
    log: dict[str, bool] = field(default_factory=dict)
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    with_missing: dict[str, bool] = field(default_factory=dict)
    bins: dict[str, list[float]] = field(default_factory=dict)  # numeric: quantile edges for the naive Bayes

    @classmethod
    def fit(cls, rows: Sequence[Mapping[str, Value]]) -> _Schema:
        schema = cls(_field_kinds(rows))
        for name, kind in schema.kinds.items():
            if kind == "cat":
                counts = Counter(_category(row.get(name)) for row in rows)
                kept = [v for v, c in counts.most_common(MAX_VALUES_PER_FIELD) if c >= RARE_BELOW and v != MISSING]
                schema.values[name] = [*kept, OTHER, MISSING]
                grouped = Counter(v if v in kept or v == MISSING else OTHER for v in counts.elements())
                schema.frequencies[name] = [grouped[v] / max(len(rows), 1) for v in schema.values[name]]
            else:
                schema._fit_number(name, np.asarray([_number(row, name) for row in rows]))
        return schema

    def _fit_number(self, name: str, raw: np.ndarray) -> None:
        known = raw[~np.isnan(raw)]
        # Skewed and never negative (money, counts, days): log1p, so one huge deal does not flatten the rest.
        skew = float(((known - known.mean()) ** 3).mean() / (known.std() ** 3 + 1e-12)) if len(known) > 2 else 0.0
        self.log[name] = bool(len(known) and known.min() >= 0 and skew > 1.0)
        scaled = np.log1p(known) if self.log[name] else known
        self.mean[name] = float(scaled.mean()) if len(scaled) else 0.0
        self.std[name] = float(scaled.std()) if len(scaled) and scaled.std() > 1e-9 else 1.0
        self.with_missing[name] = bool(np.isnan(raw).any())
        edges = np.unique(np.quantile(known, np.linspace(0, 1, NB_BINS + 1)[1:-1])) if len(known) else []
        self.bins[name] = [float(edge) for edge in edges]

    def columns(self) -> list[tuple[str, str]]:
        """(field, value) per column of the regression's matrix: a category, "" for a number, MISSING its flag."""
        columns: list[tuple[str, str]] = []
        for name, kind in self.kinds.items():
            if kind == "cat":
                columns += [(name, value) for value in self.values[name]]
            else:
                columns.append((name, ""))
                if self.with_missing[name]:
                    columns.append((name, MISSING))
        return columns

    def kept(self, name: str, value: Any) -> str:
        category = _category(value)
        return category if category in self.values[name] else OTHER

    def scaled(self, name: str, value: float) -> float:
        if math.isnan(value):
            return 0.0
        value = math.log1p(max(value, 0.0)) if self.log[name] else value
        return (value - self.mean[name]) / self.std[name]

    def matrix(self, rows: Sequence[Mapping[str, Value]]) -> np.ndarray:
        index = {column: i for i, column in enumerate(self.columns())}
        matrix = np.zeros((len(rows), len(index)), dtype=np.float64)
        for r, row in enumerate(rows):
            for name, kind in self.kinds.items():
                if kind == "cat":
                    matrix[r, index[(name, self.kept(name, row.get(name)))]] = 1.0
                    continue
                value = _number(row, name)
                matrix[r, index[(name, "")]] = self.scaled(name, value)
                if self.with_missing[name] and math.isnan(value):
                    matrix[r, index[(name, MISSING)]] = 1.0
        return matrix

    def nb_value(self, name: str, value: Any) -> str:
        """The naive Bayes's value of a field: the category kept, or the number's quantile bin."""
        if self.kinds[name] == "cat":
            return self.kept(name, value)
        number = _number({name: value}, name)
        if math.isnan(number):
            return MISSING
        return f"bin{int(np.searchsorted(self.bins[name], number, side='right'))}"

    def nb_values(self, name: str) -> list[str]:
        if self.kinds[name] == "cat":
            return list(self.values[name])
        return [f"bin{i}" for i in range(len(self.bins[name]) + 1)] + [MISSING]

    def as_json(self) -> dict:
        return asdict(self)


# --- the two model families ---------------------------------------------------------------------------------------


@dataclass
class _Model:
    family: str  # "logistic" | "naive_bayes"
    schema: _Schema
    weights: np.ndarray  # logistic: one per column; naive Bayes: a log-likelihood ratio per (field, value)
    intercept: float
    params: dict
    calibration: dict = field(default_factory=lambda: {"method": "none"})

    def field_contributions(self, rows: Sequence[Mapping[str, Value]]) -> tuple[np.ndarray, list[str]]:
        """(rows × fields) contributions to the raw log-odds, and the fields in column order."""
        names = list(self.schema.kinds)
        out = np.zeros((len(rows), len(names)))
        if self.family == "logistic":
            columns = self.schema.columns()
            product = self.schema.matrix(rows) * self.weights
            centre = self._category_centres(columns)
            for j, (name, _value) in enumerate(columns):
                out[:, names.index(name)] += product[:, j]
            out -= centre
        else:
            index = {key: i for i, key in enumerate(_nb_keys(self.schema))}
            for r, row in enumerate(rows):
                for f, name in enumerate(names):
                    out[r, f] = self.weights[index[(name, self.schema.nb_value(name, row.get(name)))]]
        return out, names

    def _category_centres(self, columns: list[tuple[str, str]]) -> np.ndarray:
        names = list(self.schema.kinds)
        centre = np.zeros(len(names))
        for name, kind in self.schema.kinds.items():
            if kind != "cat":
                continue
            weights = [self.weights[j] for j, (column, _value) in enumerate(columns) if column == name]
            centre[names.index(name)] = float(np.dot(weights, self.schema.frequencies[name]))
        return centre

    def centre_total(self) -> float:
        return float(self._category_centres(self.schema.columns()).sum()) if self.family == "logistic" else 0.0

    def log_odds(self, rows: Sequence[Mapping[str, Value]]) -> np.ndarray:
        contributions, _names = self.field_contributions(rows)
        return contributions.sum(axis=1) + self.intercept + self.centre_total()

    def probabilities(self, rows: Sequence[Mapping[str, Value]]) -> np.ndarray:
        return _calibrate(self.calibration, self.log_odds(rows))


def _nb_keys(schema: _Schema) -> list[tuple[str, str]]:
    return [(name, value) for name in schema.kinds for value in schema.nb_values(name)]


def _fit_logistic(rows: Sequence[Mapping[str, Value]], y: np.ndarray, params: dict) -> _Model:
    from sklearn.linear_model import LogisticRegression  # scikit-learn takes ~1.5 s to import: only when training

    schema = _Schema.fit(rows)
    regression = LogisticRegression(C=params["C"], class_weight=params["class_weight"], max_iter=2000)
    regression.fit(schema.matrix(rows), y)
    return _Model("logistic", schema, regression.coef_[0].copy(), float(regression.intercept_[0]), dict(params))


def _fit_naive_bayes(rows: Sequence[Mapping[str, Value]], y: np.ndarray) -> _Model:
    """Odoo-like: P(won | values) ∝ P(won) Π P(value | won), each frequency Laplace-smoothed over the field's values."""
    schema = _Schema.fit(rows)
    keys = _nb_keys(schema)
    index = {key: i for i, key in enumerate(keys)}
    won, lost = np.ones(len(keys)), np.ones(len(keys))  # Laplace: every value seen once more in each outcome
    for row, outcome in zip(rows, y, strict=True):
        for name in schema.kinds:
            (won if outcome else lost)[index[(name, schema.nb_value(name, row.get(name)))]] += 1
    ratios = np.zeros(len(keys))
    for name in schema.kinds:
        members = [i for i, (key, _value) in enumerate(keys) if key == name]
        ratios[members] = np.log(won[members] / won[members].sum()) - np.log(lost[members] / lost[members].sum())
    # A value training never saw (e.g. a field that was never missing, now missing) says nothing: the field is left
    # out of the product rather than counted at the smoothed floor, which would tilt it by the outcomes' imbalance.
    ratios[(won == 1) & (lost == 1)] = 0.0
    positives = float(y.sum())
    prior = math.log((positives + 1) / (len(y) - positives + 1))
    return _Model("naive_bayes", schema, ratios, prior, {"model": "naive_bayes"})


# --- calibration and scores ----------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


def _fit_calibration(log_odds: np.ndarray, y: np.ndarray, method: str) -> dict:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=CLIP, y_max=1 - CLIP).fit(log_odds, y)
        return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    # Platt: a 1-D logistic regression on the log-odds (weakly regularised, so a tiny holdout cannot make it wild).
    platt = LogisticRegression(C=10.0).fit(log_odds.reshape(-1, 1), y)
    return {"method": "platt", "a": float(platt.coef_[0][0]), "b": float(platt.intercept_[0])}


def _calibrate(calibration: dict, log_odds: np.ndarray) -> np.ndarray:
    method = calibration.get("method")
    if method == "platt":
        probabilities = _sigmoid(calibration["a"] * log_odds + calibration["b"])
    elif method == "isotonic":
        probabilities = np.interp(log_odds, calibration["x"], calibration["y"])
    else:
        probabilities = _sigmoid(log_odds)
    return np.clip(probabilities, CLIP, 1 - CLIP)


def _calibrated_holdout(log_odds: np.ndarray, y: np.ndarray) -> tuple[str, np.ndarray]:
    """The calibration method and the holdout's cross-fitted probabilities under it: Platt's sigmoid, or isotonic
    when the holdout is large enough to try it and it gives the lower cross-fitted Brier score."""
    methods = ("platt", "isotonic") if len(y) >= ISOTONIC_FROM else ("platt",)
    tried = [(method, _cross_fitted(log_odds, y, method)) for method in methods]
    return min(tried, key=lambda item: float(np.mean((item[1] - y) ** 2)))


def _cross_fitted(log_odds: np.ndarray, y: np.ndarray, method: str) -> np.ndarray:
    """Calibrated probabilities for the holdout, each alternate half calibrated on the other half."""
    halves = np.arange(len(y)) % 2
    out = np.empty(len(y))
    for half in (0, 1):
        fit, apply = halves != half, halves == half
        if len(set(y[fit].tolist())) < 2:
            out[apply] = _calibrate(_fit_calibration(log_odds, y, method), log_odds[apply])
        else:
            out[apply] = _calibrate(_fit_calibration(log_odds[fit], y[fit], method), log_odds[apply])
    return out


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores)) if len(set(y.tolist())) == 2 else 0.5


def _scores(y: np.ndarray, ranking: np.ndarray, probabilities: np.ndarray) -> OutcomeEvaluation:
    p = np.clip(probabilities, CLIP, 1 - CLIP)
    return OutcomeEvaluation(
        holdout_size=len(y),
        positives=int(y.sum()),
        negatives=int(len(y) - y.sum()),
        auc=round(_auc(y, ranking), 4),
        accuracy=round(float(np.mean((p >= 0.5) == (y == 1))), 4),
        brier=round(float(np.mean((p - y) ** 2)), 4),
        log_loss=round(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), 4),
        mean_probability=round(float(p.mean()), 4),
    )


def base_rate_baseline(train_y: np.ndarray, holdout_y: np.ndarray) -> OutcomeEvaluation:
    """Always the older rows' base rate: ranks nothing (AUC 0.5), the Brier score to beat."""
    rate = float(np.clip(train_y.mean(), CLIP, 1 - CLIP))
    constant = np.full(len(holdout_y), rate)
    return OutcomeEvaluation(**{**_scores(holdout_y, constant, constant).as_dict(), "auc": 0.5})


# --- serialisation -------------------------------------------------------------------------------------------------


def _dump(model: _Model) -> bytes:
    description = {
        "family": model.family,
        "schema": model.schema.as_json(),
        "params": model.params,
        "calibration": model.calibration,
    }
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        meta=np.asarray([FORMAT, json.dumps(description)]),
        weights=model.weights.astype(np.float64),
        intercept=np.asarray([model.intercept]),
    )
    return buffer.getvalue()


def _parse(model_bytes: bytes) -> _Model:
    try:
        archive = np.load(io.BytesIO(model_bytes), allow_pickle=False)
        version, description = (str(value) for value in archive["meta"])
        if version != FORMAT:
            raise ValueError(f"Outcome model format {version} cannot be read by format {FORMAT}; retrain it.")
        data = json.loads(description)
        return _Model(
            family=data["family"],
            schema=_Schema(**data["schema"]),
            weights=archive["weights"],
            intercept=float(archive["intercept"][0]),
            params=data["params"],
            calibration=data["calibration"],
        )
    except ValueError as error:
        if "retrain" in str(error):
            raise
        raise ValueError("These bytes are not an outcome model trained by train().") from error
    except (OSError, KeyError, EOFError, TypeError) as error:
        raise ValueError("These bytes are not an outcome model trained by train().") from error


_loaded: OrderedDict[Hashable, _Model] = OrderedDict()
_loaded_lock = threading.Lock()
_LOADED_MODELS = 16


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


def _load(model_bytes: bytes) -> _Model:
    return _load_as(hashlib.blake2b(model_bytes, digest_size=16).digest(), lambda: model_bytes)


# --- drivers in words ------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if _is_missing(value):
        return ""
    if _is_number(value):
        number = float(value)
        return f"{number:,.0f}" if number.is_integer() or abs(number) >= 100 else f"{number:,.2f}"
    return _category(value)


def _phrase(name: str, shown: str, contribution: float) -> str:
    title = name.replace("_", " ").strip().capitalize() or name
    subject = f"{title} {shown}" if shown and any(ch.isdigit() for ch in shown[:1]) else f"{title} = {shown}"
    if not shown:
        subject = f"No {name.replace('_', ' ')} given"
    size = abs(contribution)
    strength = "strongly " if size >= 1.0 else "slightly " if size < 0.25 else ""
    return f"{subject} {strength}{'raises' if contribution > 0 else 'lowers'} the odds"


def _drivers(model: _Model, rows: Sequence[Mapping[str, Value]], top: int) -> list[tuple[Driver, ...]]:
    contributions, names = model.field_contributions(rows)
    if model.calibration.get("method") == "platt":
        contributions = contributions * model.calibration["a"]
    out = []
    for row, values in zip(rows, contributions, strict=True):
        order = np.argsort(-np.abs(values), kind="stable")[:top]
        out.append(
            tuple(
                Driver(
                    names[f],
                    _shown(row.get(names[f])),
                    round(float(values[f]), 4),
                    _phrase(names[f], _shown(row.get(names[f])), float(values[f])),
                )
                for f in order
                if abs(values[f]) > 1e-6
            )
        )
    return out


# --- public API -------------------------------------------------------------------------------------------------


def plain_value(value: Any) -> Value:
    """A field's value as training reads it: a Decimal (money from the database) is a number, a non-finite number
    is missing, booleans stay booleans (a category), anything else that is not a number is its text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        number = float(value) if isinstance(value, Decimal) else value
        return number if math.isfinite(number) else None
    return str(value)


def _clean(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Value]]:
    if any(not isinstance(row, Mapping) for row in rows):
        raise ValueError("Each example must be a mapping of field names to values.")
    return [{str(key): plain_value(value) for key, value in row.items()} for row in rows]


def predict(model_bytes: bytes, rows: Sequence[Mapping[str, Value]], *, top: int = 5) -> list[OutcomeScore]:
    return _predict(_load(model_bytes), _clean(rows), top)


def predict_stored(
    key: Hashable, model_bytes: Callable[[], bytes], rows: Sequence[Mapping[str, Value]], *, top: int = 5
) -> list[OutcomeScore]:
    """As predict(), for a stored model that `key` names for good: its bytes are read once per process."""
    return _predict(_load_as(key, model_bytes), _clean(rows), top)


def _predict(model: _Model, rows: list[dict[str, Value]], top: int) -> list[OutcomeScore]:
    if not rows:
        return []
    probabilities = model.probabilities(rows)
    drivers = _drivers(model, rows, top)
    return [OutcomeScore(round(float(p), 4), d) for p, d in zip(probabilities, drivers, strict=True)]


def evaluate(model_bytes: bytes, rows: Sequence[Mapping[str, Value]], outcomes: Sequence[bool]) -> dict:
    """A stored model's figures on any slice (e.g. the deployed version on a new version's holdout)."""
    model, rows, y = _load(model_bytes), _clean(rows), np.asarray([1 if o else 0 for o in outcomes])
    if len(rows) != len(y):
        raise ValueError(f"Got {len(rows)} rows but {len(y)} outcomes.")
    return _scores(y, model.log_odds(rows), model.probabilities(rows)).as_dict()


def holdout_start_for(outcomes: Sequence[bool], names: tuple[str, str] = ("positive", "negative")) -> int:
    """Where the holdout starts: the newest fifth, widened back until it and the older rows hold enough of each."""
    y = np.asarray([1 if o else 0 for o in outcomes])
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives < MIN_PER_CLASS or negatives < MIN_PER_CLASS:
        raise ValueError(
            f"A model needs at least {MIN_PER_CLASS} {names[0]} and {MIN_PER_CLASS} {names[1]} examples; "
            f"there are {positives} {names[0]} and {negatives} {names[1]}."
        )
    n = len(y)
    start = n - max(round(n * HOLDOUT_FRACTION), 2 * MIN_HOLDOUT_PER_CLASS)
    floor = n - round(n * MAX_HOLDOUT_FRACTION)
    while start > floor and min(y[start:].sum(), len(y[start:]) - y[start:].sum()) < MIN_HOLDOUT_PER_CLASS:
        start -= 1
    tail, head = y[start:], y[:start]
    if (
        min(tail.sum(), len(tail) - tail.sum()) < MIN_HOLDOUT_PER_CLASS
        or min(head.sum(), len(head) - head.sum()) < MIN_HOLDOUT_PER_CLASS
    ):
        raise ValueError(
            f"The {names[0]} and {names[1]} examples are not spread over time: the newest ones need at least "
            f"{MIN_HOLDOUT_PER_CLASS} of each to test a model on, and the older ones as many to learn from."
        )
    return start


def train(
    rows: Sequence[Mapping[str, Value]],
    outcomes: Sequence[bool],
    *,
    progress: Progress | None = None,
    names: tuple[str, str] = ("positive", "negative"),
) -> OutcomeTrainingResult:
    """Chooses (by holdout AUC), calibrates and scores an outcome model on the newest rows, then refits on all."""
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    rows = _clean(rows)
    if len(rows) != len(outcomes):
        raise ValueError(f"Got {len(rows)} rows but {len(outcomes)} outcomes; every row needs its outcome.")
    y = np.asarray([1 if o else 0 for o in outcomes])
    start = holdout_start_for(outcomes, names)
    if not _field_kinds(rows):
        raise ValueError("The examples have no fields to learn from.")
    older, newer, older_y, newer_y = rows[:start], rows[start:], y[:start], y[start:]
    report(0.05, "Fitting the naive Bayes anchor")
    anchor = _fit_naive_bayes(older, older_y)
    anchor_odds = anchor.log_odds(newer)
    candidates: list[tuple[float, dict, _Model, np.ndarray]] = [
        (_auc(newer_y, anchor_odds), {"model": "naive_bayes"}, anchor, anchor_odds)
    ]
    grid = [{"model": "logistic", "C": c, "class_weight": w} for c in C_GRID for w in WEIGHTS]
    for number, params in enumerate(grid):
        model = _fit_logistic(older, older_y, params)
        odds = model.log_odds(newer)
        candidates.append((_auc(newer_y, odds), params, model, odds))
        report(0.1 + 0.6 * (number + 1) / len(grid), f"Tried {number + 1} of {len(grid)} configurations")
    # The best AUC; on a tie (to 0.001) the regression, whose drivers account for every field together.
    _auc_chosen, params, _model, odds = max(candidates, key=lambda c: (round(c[0], 3), c[1]["model"] == "logistic"))

    report(0.75, "Calibrating the probabilities on the newest examples")
    method, calibrated = _calibrated_holdout(odds, newer_y)
    evaluation = _scores(newer_y, odds, calibrated).as_dict()
    evaluation["anchor"] = _scores(newer_y, anchor_odds, _calibrated_holdout(anchor_odds, newer_y)[1]).as_dict()
    evaluation["chosen"] = params["model"]
    evaluation["candidates"] = [
        {**candidate_params, "auc": round(candidate_auc, 4)} for candidate_auc, candidate_params, _m, _o in candidates
    ]
    calibration = _fit_calibration(odds, newer_y, method)

    report(0.85, "Refitting on every example")
    final = _fit_logistic(rows, y, params) if params["model"] == "logistic" else _fit_naive_bayes(rows, y)
    final.calibration = calibration
    model_bytes = _dump(final)
    report(1.0, "Done")
    return OutcomeTrainingResult(
        model_bytes=model_bytes,
        evaluation=evaluation,
        baseline=base_rate_baseline(older_y, newer_y).as_dict(),
        holdout_start=start,
        params={**params, "calibration": calibration["method"], "fields": len(final.schema.kinds)},
        seconds=round(time.perf_counter() - started, 3),
    )
