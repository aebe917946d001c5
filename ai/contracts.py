"""What `ai.facade` returns: frozen dataclasses carrying the output and how it was produced.

Every result has `meta` (run id in the ledger, provider, model, prompt version, cached flag, latency), so a
caller can show "drafted offline by the local model" and record the agent's feedback against the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.dispatch import Signal


@dataclass(frozen=True)
class RunMeta:
    feature: str
    provider: str
    model: str
    run_id: int | None = None
    prompt_key: str = ""
    prompt_version: str = ""
    cached: bool = False
    latency_ms: float = 0.0
    # Providers that were tried first and failed (or were skipped: budget, circuit open, external forbidden).
    fallback_from: tuple[str, ...] = ()

    @property
    def is_local(self) -> bool:
        return self.provider == "local"


@dataclass(frozen=True)
class Generation:
    text: str
    meta: RunMeta
    data: dict[str, Any] | None = None  # structured output, validated against the requested JSON schema


@dataclass(frozen=True)
class Classification:
    label: str
    confidence: float
    scores: dict[str, float]
    meta: RunMeta
    # A trained model below its abstain threshold: show "no suggestion" (never another guess); `label` is its best.
    abstained: bool = False


@dataclass(frozen=True)
class Summary:
    text: str
    keywords: tuple[str, ...]
    meta: RunMeta


# The sections of a ticket-style rewrite (Rewrite.sections), in the order they are written, with their headings.
SECTION_TITLES = {
    "summary": "Summary",
    "steps": "Steps to reproduce",
    "expected": "Expected",
    "actual": "Actual",
    "environment": "Environment",
}


@dataclass(frozen=True)
class Rewrite:
    text: str
    meta: RunMeta
    sections: dict[str, str] = field(default_factory=dict)  # keys of SECTION_TITLES
    # Style "ticket" only: True when the rewrite would not make the ticket clearer (greetings only, one statement,
    # unchanged, or words the ticket does not contain). Then offer no Accept; `reason` says why, for the agent.
    nothing_to_improve: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Embeddings:
    vectors: Any  # numpy.ndarray, shape (len(texts), dimensions), L2-normalised
    model: str
    meta: RunMeta

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])


@dataclass(frozen=True)
class Sentiment:
    label: str  # "positive" | "neutral" | "negative"
    score: float  # -1 … 1
    meta: RunMeta


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, e.g. "en"
    name: str
    confidence: float
    meta: RunMeta


@dataclass(frozen=True)
class Moderation:
    flagged: bool
    categories: dict[str, float]
    meta: RunMeta


# --- Errors a caller can catch ------------------------------------------------------------------


class AIError(Exception):
    """Base of the errors `ai.facade` raises."""


class AIInputError(AIError, ValueError):
    """The caller's input cannot be sent to any provider (empty, too long, a prompt placeholder missing).

    The message is written for the person who typed the text, e.g. "The text is empty." A form can show it as is.
    """


class AIUnavailable(AIError):
    """No provider could answer (all failed, were skipped, or the operation needs a model the workspace lacks).

    Domain actions must never depend on an AI call succeeding: catch this, save the ticket/quote/lead anyway and
    offer the AI part again later. The failed run is in the ledger as `run_id` with the reason of every provider.
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: int | None = None,
        reasons: tuple[str, ...] = (),
        retry_after: float | None = None,
        budget_spent: bool = False,
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.reasons = reasons
        # A provider limited the workspace's rate and said when to come back (the shortest wait of those that did).
        self.retry_after = retry_after
        # A provider was skipped because this month's budget is spent: waiting will not help, an admin can.
        self.budget_spent = budget_spent


# --- Feedback, stored runs and usage figures ---------------------------------------------------

FEEDBACK_OUTCOMES = ("accepted", "edited", "rejected")


@dataclass(frozen=True)
class RunRecord:
    """One ledger row as a caller sees it, e.g. the result of a run queued with `generate_later`."""

    run_id: int
    status: str  # "ok" | "fallback" | "error" | "blocked"
    text: str
    data: dict[str, Any] | None
    meta: RunMeta
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status in {"ok", "fallback"}


@dataclass(frozen=True)
class UsageRow:
    """Usage of one feature or one provider (or all of them) over the period of `AIMetrics`."""

    key: str
    runs: int
    errors: int
    cost_usd: Any  # decimal.Decimal
    input_tokens: int
    output_tokens: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    cache_hit_rate: float | None
    feedback_count: int
    accepted: int
    edited: int
    rejected: int

    @property
    def acceptance_rate(self) -> float | None:
        """Share of rated outputs the agent used, as they were or after editing."""
        return (self.accepted + self.edited) / self.feedback_count if self.feedback_count else None


@dataclass(frozen=True)
class DailyUsage:
    day: Any  # datetime.date
    runs: int
    cost_usd: Any
    cached: int
    errors: int


@dataclass(frozen=True)
class AIMetrics:
    days: int
    total: UsageRow
    by_feature: tuple[UsageRow, ...]
    by_provider: tuple[UsageRow, ...]
    daily: tuple[DailyUsage, ...]


# --- Trained classifiers ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingData:
    """Labelled examples for a classifier, OLDEST FIRST (the newest part becomes the holdout)."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    label_names: dict[str, str] = field(default_factory=dict)  # label -> what people call it (e.g. id -> name)
    sources: dict[str, int] = field(default_factory=dict)  # e.g. {"tickets": 480, "agent corrections": 12}
    fingerprint: str = ""  # the caller's summary of the data (<= 64 chars), to tell whether retraining is due


@dataclass(frozen=True)
class TrainingReport:
    """A version of a workspace classifier (`facade.classifier_train`), or the deployed one
    (`facade.classifier_status`)."""

    name: str
    labels: tuple[str, ...]
    examples: int
    label_counts: dict[str, int]
    accuracy: float | None  # held-out (the newest examples), None while training or after a failure
    fingerprint: str
    trained_at: Any  # datetime.datetime
    version: int = 0
    status: str = "ready"  # "training" | "ready" | "failed"
    deployed: bool = False
    macro_f1: float | None = None
    baseline_accuracy: float | None = None  # always the commonest label, same holdout
    decision: str = ""  # why it was (not) deployed, or why training failed
    kind: str = "text"  # "text" (a classifier of texts) | "outcome" (a yes/no outcome from a record's fields)
    # Outcome models, on the holdout: the model's AUC, the naive Bayes anchor's, the calibrated Brier score and
    # always-the-base-rate's Brier score (lower is better).
    auc: float | None = None
    anchor_auc: float | None = None
    brier: float | None = None
    baseline_brier: float | None = None


# --- Outcome models (e.g. lead won/lost, company churned) ---------------------------------------------------------


@dataclass(frozen=True)
class OutcomeData:
    """Examples for an outcome model, OLDEST FIRST (the newest part becomes the holdout): one mapping of field →
    value per record (str: a category; int/float: a number; None or "": missing) and whether the outcome happened."""

    rows: tuple[dict[str, Any], ...]
    outcomes: tuple[bool, ...]
    outcome_names: tuple[str, str] = ("Yes", "No")  # what people call (happened, did not), e.g. ("Won", "Lost")
    sources: dict[str, int] = field(default_factory=dict)  # e.g. {"leads": 480}
    fingerprint: str = ""  # the caller's summary of the data (<= 64 chars), to tell whether retraining is due


@dataclass(frozen=True)
class OutcomeDriver:
    """A field's push on one prediction: `contribution` is its share of the log-odds (> 0 raises the probability),
    `phrase` says it for people, e.g. "Source = referral raises the odds"."""

    field: str
    value: str  # the record's value as shown (numbers with thousands separators; "" when missing)
    contribution: float
    phrase: str


@dataclass(frozen=True)
class OutcomePrediction:
    """`facade.outcome_predict`: the deployed model's calibrated probability that the outcome happens (0–1), the
    fields that drove it (largest |contribution| first), and the version that made it (e.g. "leads.conversion v3")."""

    probability: float
    drivers: tuple[OutcomeDriver, ...]
    model: str
    version: int
    meta: RunMeta | None = None  # the ledger row (None when the caller asked not to record it)


@dataclass(frozen=True)
class FeedbackRecord:
    """One agent's verdict on a run (`facade.get_feedback`)."""

    run_id: int
    outcome: str  # one of FEEDBACK_OUTCOMES
    edit_distance: int | None  # words changed between the output and what was finally used
    user_id: int | None
    created: Any  # datetime.datetime


# --- insights ---
# Sent with `ids=(run id, …)` inside the writer's transaction when a run is recorded or feedback is given on it.
runs_changed = Signal()


@dataclass(frozen=True)
class RunRollupFact:
    """What insights' rollups count of one AI run and the feedback on it (ai.facade.run_rollup_facts)."""

    id: int
    created: datetime
    feature: str
    provider: str
    status: str  # ok, fallback, error, blocked
    cost_micro_usd: int
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    edit_distance_count: int = 0
    edit_distance_sum: int = 0


# --- Budget notices ---
# Sent with `notice=BudgetNotice(...)` when a provider's monthly budget is spent (ai.services.budget_exhausted_notify,
# in a worker). `ai` imports no domain app: the notifications app receives it and tells the workspace's managers;
# each receiver returns how many people it told. With no receiver, ai emails the managers itself.
budget_exhausted = Signal()


@dataclass(frozen=True)
class BudgetNotice:
    config_id: int
    provider_name: str
    month: str  # "2026-12"
    month_label: str  # "December 2026"
