"""Predicting SLA breaches: a transparent heuristic, and a logistic regression learned from the workspace's history.

Both read the same `RiskInputs` (time left against typical handling time, queue load, availability, sentiment,
customer tier, reopens, priority) and answer an `SLARisk` whose factors say, in words, what pushed the
probability up or down. The learned model is plain numbers (scaling + coefficients, JSON in `SLARiskModel`),
evaluated here with a few multiplications; scikit-learn is only imported to fit it.

Training (`fit`) sees each finished ticket at a few moments of its life (`TrainingRow`s built by
helpdesk.selectors.sla.risk_training_rows) and learns whether it ended breached. Availability is not recorded
historically, so the model does not learn it: today's availability is added on top with the heuristic's weight.
It is evaluated on the newest 20 % of tickets (a time split: it must predict the future from the past), next to
the heuristic on the same tickets.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

MIN_TRAINING_TICKETS = 300
HOLDOUT_SHARE = 0.2
HIGH, MEDIUM = 0.7, 0.4
BASELINE = -1.5  # log-odds of a ticket with nothing special about it: ~18 %
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
TIER_RANK = {"free": 0, "starter": 1, "professional": 2, "enterprise": 3}
AVAILABILITY_WEIGHT = {"away": 1.2, "offline": 1.2, "busy": 0.4}
TARGET_LABELS = {"first_response": "first response", "next_response": "next response", "resolution": "resolution"}
FEATURES = (
    "time_pressure",
    "elapsed_share",
    "assignee_load",
    "unassigned",
    "team_load",
    "sentiment_negative",
    "tier",
    "reopened",
    "priority",
)


@dataclass(frozen=True)
class SLARisk:
    probability: float  # 0–1
    level: str  # low | medium | high
    factors: list[str] = field(default_factory=list)
    source: str = "heuristic"  # heuristic | model

    @property
    def percent(self) -> int:
        return round(self.probability * 100)


@dataclass(frozen=True)
class RiskInputs:
    """What the prediction looks at. `target` is the nearest running clock (None: no clock runs)."""

    target: str | None = None
    minutes_left: float = 0.0  # business minutes to that due time; negative once past it
    target_minutes: float = 0.0
    elapsed_minutes: float = 0.0  # business minutes the clock has run (pauses excluded)
    typical_minutes: float | None = None  # how long this priority / category usually takes for the target
    priority: str = "normal"
    sentiment: str = ""
    tier: str = ""
    reopened: int = 0
    assigned: bool = False
    assignee_open: int = 0
    assignee_capacity: int = 25
    assignee_availability: str = ""
    team_open: int = 0
    team_size: int = 0


def level_for(probability: float) -> str:
    return "high" if probability >= HIGH else "medium" if probability >= MEDIUM else "low"


def _sigmoid(value: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, value))))


def _duration(minutes: float) -> str:
    minutes = abs(minutes)
    if minutes < 90:
        return f"{round(minutes)} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h".replace(".0 h", " h")
    return f"{minutes / 1440:.1f} days".replace(".0 days", " days")


def _expected(inputs: RiskInputs) -> tuple[float, bool]:
    """(typical minutes for the target, whether that comes from history): without history, half the target."""
    if inputs.typical_minutes:
        return inputs.typical_minutes, True
    return max(1.0, inputs.target_minutes * 0.5), False


def _time_pressure(inputs: RiskInputs) -> float:
    """log(time still expected / time left): 0 when they are equal, positive when time is short.

    Time still expected is what a typical ticket has left at this age; a ticket already older than typical is
    a slow one, expected to run on for half its age again (tickets that overrun tend to keep overrunning).
    """
    typical, _ = _expected(inputs)
    needed = max(typical - inputs.elapsed_minutes, 0.5 * inputs.elapsed_minutes)
    return max(-4.0, min(4.0, math.log((needed + 1) / (max(inputs.minutes_left, 0.0) + 1))))


# --- Features and their words -------------------------------------------------------------------


def features(inputs: RiskInputs) -> list[float]:
    """The model's view of a ticket, in FEATURES order."""
    span = inputs.elapsed_minutes + max(inputs.minutes_left, 0.0)
    per_member = inputs.team_open / inputs.team_size if inputs.team_size else 0.0
    return [
        _time_pressure(inputs),
        inputs.elapsed_minutes / span if span else 0.0,
        inputs.assignee_open / max(1, inputs.assignee_capacity) if inputs.assigned else 0.0,
        0.0 if inputs.assigned else 1.0,
        math.log1p(per_member),
        1.0 if inputs.sentiment == "negative" else 0.0,
        TIER_RANK.get(inputs.tier, 1) / 3,
        float(min(inputs.reopened, 3)),
        PRIORITY_RANK.get(inputs.priority, 1) / 3,
    ]


def _describe(name: str, inputs: RiskInputs) -> str:
    label = TARGET_LABELS.get(inputs.target or "", "target")
    if name in {"time_pressure", "elapsed_share"}:
        typical, from_history = _expected(inputs)
        usual = (
            f"{inputs.priority} tickets like this usually take {_duration(typical)}"
            if from_history
            else f"about {_duration(typical)} of work expected"
        )
        return f"{label.capitalize()} due in {_duration(inputs.minutes_left)} of business time; {usual}"
    if name == "assignee_load":
        return f"Assignee has {inputs.assignee_open} of at most {inputs.assignee_capacity} open tickets"
    if name == "unassigned":
        return "Nobody is assigned yet"
    if name == "team_load":
        per_member = inputs.team_open / max(1, inputs.team_size)
        return f"The team has {per_member:.0f} open tickets per member"
    if name == "sentiment_negative":
        return "The customer sounds unhappy (negative sentiment)"
    if name == "tier":
        return f"{inputs.tier.capitalize() or 'This'} customer"
    if name == "reopened":
        times = {1: "once", 2: "twice"}.get(inputs.reopened, f"{inputs.reopened} times")
        return f"Reopened {times}"
    if name == "priority":
        return f"{inputs.priority.capitalize()} priority leaves little slack"
    if name == "availability":
        return f"Assignee is {inputs.assignee_availability}"
    return name


def _finish(score: float, contributions: list[tuple[float, str]], source: str, note: str = "") -> SLARisk:
    probability = round(_sigmoid(score), 3)
    shown = [text for weight, text in sorted(contributions, key=lambda item: -abs(item[0])) if abs(weight) >= 0.2]
    if not shown:
        shown = ["Enough time left and a normal queue"]
    return SLARisk(
        probability=probability,
        level=level_for(probability),
        factors=[*shown, *([note] if note else [])],
        source=source,
    )


def _settled(inputs: RiskInputs) -> SLARisk | None:
    """No clock, or already past due: no prediction needed."""
    if inputs.target is None:
        return SLARisk(probability=0.0, level="low", factors=["No SLA clock is running"])
    if inputs.minutes_left <= 0:
        label = TARGET_LABELS[inputs.target].capitalize()
        text = f"{label} was due {_duration(inputs.minutes_left)} of business time ago"
        return SLARisk(probability=1.0, level="high", factors=[text])
    return None


# --- Heuristic ----------------------------------------------------------------------------------


def heuristic(inputs: RiskInputs) -> SLARisk:
    """Hand-set weights on the same inputs the model sees; every weight that matters is one factor sentence."""
    settled = _settled(inputs)
    if settled is not None:
        return settled
    contributions = [(1.8 * _time_pressure(inputs), _describe("time_pressure", inputs))]
    if inputs.assigned:
        load = inputs.assignee_open / max(1, inputs.assignee_capacity)
        if load > 0.6:
            contributions.append((2.5 * (load - 0.6), _describe("assignee_load", inputs)))
        elif load < 0.25:
            contributions.append((-0.3, "Assignee has a light queue"))
        weight = AVAILABILITY_WEIGHT.get(inputs.assignee_availability, 0.0)
        if weight:
            contributions.append((weight, _describe("availability", inputs)))
    else:
        contributions.append((0.8, _describe("unassigned", inputs)))
    if inputs.team_size and inputs.team_open / inputs.team_size > 8:
        contributions.append(
            (0.6 * math.log(inputs.team_open / inputs.team_size / 8) + 0.2, _describe("team_load", inputs))
        )
    if inputs.sentiment == "negative":
        contributions.append((0.4, _describe("sentiment_negative", inputs)))
    tier_weight = {"enterprise": 0.3, "professional": 0.15}.get(inputs.tier, 0.0)
    if tier_weight:
        contributions.append((tier_weight, f"{_describe('tier', inputs)}: complex requests, high expectations"))
    if inputs.reopened:
        contributions.append((0.5 * min(inputs.reopened, 3), _describe("reopened", inputs)))
    return _finish(BASELINE + sum(weight for weight, _ in contributions), contributions, "heuristic")


# --- The learned model --------------------------------------------------------------------------


def predict(inputs: RiskInputs, parameters: dict[str, Any]) -> SLARisk:
    settled = _settled(inputs)
    if settled is not None:
        return settled
    inputs = replace(inputs, typical_minutes=_typical_from(parameters, inputs) or inputs.typical_minutes)
    values = features(inputs)
    score = float(parameters["intercept"])
    contributions = []
    for name, value, mean, scale, coef in zip(
        parameters["features"], values, parameters["mean"], parameters["scale"], parameters["coef"], strict=True
    ):
        weight = coef * (value - mean) / (scale or 1.0)
        score += weight
        contributions.append((weight, _describe(name, inputs)))
    availability = AVAILABILITY_WEIGHT.get(inputs.assignee_availability, 0.0) if inputs.assigned else 0.0
    if availability:
        score += availability
        contributions.append((availability, _describe("availability", inputs)))
    merged = _merge_same_text(contributions)
    note = f"Learned from {parameters.get('samples', 'past')} finished tickets"
    if parameters.get("auc") is not None:
        note += f" ({times_in_ten(parameters['auc'])} on the newest ones)"
    return _finish(score, merged, "model", note)


def times_in_ten(auc: float) -> str:
    """The model's AUC in a person's words: how often it ranks a ticket that breached above one that did not."""
    return f"right {round(auc * 10)} times in 10"


def _merge_same_text(contributions: list[tuple[float, str]]) -> list[tuple[float, str]]:
    merged: dict[str, float] = defaultdict(float)
    for weight, text in contributions:
        merged[text] += weight
    return [(weight, text) for text, weight in merged.items()]


def _typical_from(parameters: dict[str, Any], inputs: RiskInputs) -> float | None:
    table = parameters.get("typical_minutes", {}).get(inputs.target or "", {})
    return table.get(inputs.priority)


def assess(inputs: RiskInputs, *, model: dict[str, Any] | None = None) -> SLARisk:
    """The learned model's answer when the workspace has one, the heuristic's otherwise."""
    if model is not None:
        try:
            return predict(inputs, model)
        except (KeyError, TypeError, ValueError):
            pass  # a model row from an older feature set: the heuristic still answers
    return heuristic(inputs)


# --- Fitting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRow:
    """One finished ticket seen at one moment of its life, and whether it ended breached."""

    ticket_id: int
    created: datetime
    inputs: RiskInputs
    breached: bool
    # Business minutes the ticket took for each target (its outcome), for the typical-time table.
    took: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Fitted:
    algorithm: str
    samples: int
    breached_share: float
    holdout_samples: int
    auc: float | None
    accuracy: float | None
    heuristic_auc: float | None
    parameters: dict[str, Any]


def typical_table(rows: Sequence[TrainingRow]) -> dict[str, dict[str, float]]:
    """Median business minutes per target and priority, one value per ticket."""
    seen: set[int] = set()
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.ticket_id in seen:
            continue
        seen.add(row.ticket_id)
        for target, minutes in row.took.items():
            if minutes is not None:
                samples[target][row.inputs.priority].append(minutes)
    table = {
        target: {priority: statistics.median(values) for priority, values in by.items()}
        for target, by in samples.items()
    }
    if "first_response" in table:
        table.setdefault("next_response", table["first_response"])
    return table


def _with_typical(rows: Sequence[TrainingRow], table: dict[str, dict[str, float]]) -> list[RiskInputs]:
    return [
        replace(row.inputs, typical_minutes=table.get(row.inputs.target or "", {}).get(row.inputs.priority))
        for row in rows
    ]


def fit(rows: Sequence[TrainingRow]) -> Fitted | None:
    """Logistic regression on the rows; None when one class is missing (nothing to tell apart)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rows = sorted(rows, key=lambda row: (row.created, row.ticket_id))
    tickets = sorted({(row.created, row.ticket_id) for row in rows})
    cut = tickets[int(len(tickets) * (1 - HOLDOUT_SHARE))] if len(tickets) > 1 else tickets[-1]
    train = [row for row in rows if (row.created, row.ticket_id) < cut]
    test = [row for row in rows if (row.created, row.ticket_id) >= cut]
    labels = np.array([row.breached for row in rows], dtype=float)
    if labels.min() == labels.max():
        return None

    def matrix(subset: Sequence[TrainingRow], table: dict[str, dict[str, float]]) -> np.ndarray:
        return np.array([features(inputs) for inputs in _with_typical(subset, table)], dtype=float)

    def fitted_model(subset: Sequence[TrainingRow], table: dict[str, dict[str, float]]):
        x = matrix(subset, table)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        y = np.array([row.breached for row in subset], dtype=int)
        regression = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
        return regression, mean, scale

    auc = accuracy = heuristic_auc = None
    train_labels = {row.breached for row in train}
    test_labels = {row.breached for row in test}
    if len(train_labels) == 2 and len(test_labels) == 2:
        table = typical_table(train)
        regression, mean, scale = fitted_model(train, table)
        probabilities = regression.predict_proba((matrix(test, table) - mean) / scale)[:, 1]
        y_test = np.array([row.breached for row in test], dtype=int)
        auc = float(roc_auc_score(y_test, probabilities))
        accuracy = float(((probabilities >= 0.5) == y_test).mean())
        guesses = [heuristic(inputs).probability for inputs in _with_typical(test, table)]
        heuristic_auc = float(roc_auc_score(y_test, guesses))
    table = typical_table(rows)
    regression, mean, scale = fitted_model(rows, table)
    samples = len({row.ticket_id for row in rows})
    parameters = {
        "features": list(FEATURES),
        "mean": [float(value) for value in mean],
        "scale": [float(value) for value in scale],
        "coef": [float(value) for value in regression.coef_[0]],
        "intercept": float(regression.intercept_[0]),
        "typical_minutes": table,
        "samples": samples,
        "auc": auc,
    }
    return Fitted(
        algorithm="logistic_regression",
        samples=samples,
        breached_share=float(labels.mean()),
        holdout_samples=len({row.ticket_id for row in test}),
        auc=auc,
        accuracy=accuracy,
        heuristic_auc=heuristic_auc,
        parameters=parameters,
    )
