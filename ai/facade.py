"""The only door into the AI app for the rest of Switchboard. Import this module (and `ai.contracts`), nothing else.

Every call runs in the current workspace: its providers, prompts, policy, cache and ledger. Each result is a frozen
dataclass from `ai.contracts` whose `meta` says which provider answered (`meta.is_local` for "drafted offline"),
whether it came from the cache, and the ledger `run_id` to attach feedback to.

Errors, and the rule domain code must follow:
- `AIInputError` (a `ValueError`): the input is empty, too long, or misses a prompt placeholder. Show the message.
- `AIUnavailable`: no provider could answer, e.g. free-text `generate()` in a workspace with only the local
  provider, or every external provider failing. **A domain action must never depend on an AI call succeeding**:
  catch it, complete the action without the AI part (save the ticket, send the agent's own text), and offer the
  AI part again later. Provider failures themselves never reach the caller: the next provider answers first.
- Long calls (free-text generation with an external model can take seconds) belong in the background:
  `generate_later()` queues the call on Celery and returns the task id; the run is then read with `get_run()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum

from core.compiled import RowsById
from core.outbox import enqueue

from . import grounding, safety, selectors, services, vectors
from .contracts import (
    AIInputError,
    AIMetrics,
    AIUnavailable,
    Classification,
    Embeddings,
    FeedbackRecord,
    Generation,
    Language,
    Moderation,
    OutcomeData,
    OutcomeDriver,
    OutcomePrediction,
    Rewrite,
    RunMeta,
    RunRecord,
    RunRollupFact,
    Sentiment,
    Summary,
    TrainingData,
    TrainingReport,
    runs_changed,
)
from .models import AIFeedback, AIRun
from .operations import Job, check_style, normalise_labels
from .orchestrator import default as _orchestrator
from .rewrite_checks import TicketRewriteVerdict, ticket_rewrite_verdict

__all__ = [
    "AIInputError",
    "AIUnavailable",
    "classify",
    "detect_language",
    "embed",
    "forget_text",
    "generate",
    "generate_later",
    "get_metrics",
    "get_run",
    "get_vectors",
    "has_vectors",
    "index_text",
    "index_texts",
    "invalidate_cache",
    "moderate",
    "record_feedback",
    "rewrite",
    "rewrite_verdict",
    "search_similar",
    "sentiment",
    "summarize",
]


def _user(user: Any) -> Any:
    """Only a saved user of this workspace is recorded (anonymous or None: the run has no user)."""
    return user if getattr(user, "pk", None) and getattr(user, "is_authenticated", True) else None


def _text(text: Any) -> str:
    if not isinstance(text, str):
        raise AIInputError("The text must be a string.")
    return text


def _context(context: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(context, Mapping):
        raise AIInputError("The context must be a mapping of placeholder names to values.")
    return {str(key): "" if value is None else str(value) for key, value in context.items()}


def _run(job: Job):
    return _orchestrator.run(job)


def generate(
    feature: str,
    context: Mapping[str, Any],
    *,
    user: Any = None,
    json_schema: dict[str, Any] | None = None,
    max_output_tokens: int | None = None,
) -> Generation:
    """Text (or JSON validated against `json_schema`, in `.data`) from the feature's prompt filled with `context`.

    Needs an external provider: offline, this raises AIUnavailable (catch it; see the module docstring).
    """
    options: dict[str, Any] = {}
    if json_schema is not None:
        options["json_schema"] = json_schema
    if max_output_tokens:
        options["max_output_tokens"] = int(max_output_tokens)
    outcome = _run(Job("generate", feature, _context(context), options, user=_user(user)))
    return Generation(text=outcome.payload["text"], data=outcome.payload.get("data"), meta=outcome.meta)


def classify(
    text: str, labels: Sequence[str] | Mapping[str, str], *, feature: str = "classify", user: Any = None
) -> Classification:
    """One of `labels` (names, or names → descriptions, which guide the choice) with a confidence and all scores."""
    job = Job("classify", feature, {"text": _text(text)}, {"labels": normalise_labels(labels)}, user=_user(user))
    payload, meta = _unpack(_run(job))
    return Classification(payload["label"], payload["confidence"], payload["scores"], meta)


def summarize(text: str, *, feature: str = "summarize", user: Any = None, max_sentences: int = 3) -> Summary:
    max_sentences = min(10, max(1, int(max_sentences)))
    job = Job("summarize", feature, {"text": _text(text)}, {"max_sentences": max_sentences}, user=_user(user))
    payload, meta = _unpack(_run(job))
    return Summary(payload["text"], tuple(payload.get("keywords", ())), meta)


def rewrite(text: str, *, style: str, feature: str = "rewrite", user: Any = None) -> Rewrite:
    """`style`: "ticket" (summary / steps / expected / actual / environment), "concise", "friendly" or "formal"."""
    job = Job("rewrite", feature, {"text": _text(text)}, {"style": check_style(style)}, user=_user(user))
    payload, meta = _unpack(_run(job))
    if style != "ticket":
        return Rewrite(payload["text"], meta, dict(payload.get("sections") or {}))
    # Every provider's ticket rewrite passes the same checks: no placeholders, "nothing to improve" when it
    # would only repeat or empty the ticket.
    verdict = rewrite_verdict(text, payload["text"], payload.get("sections"))
    return Rewrite(verdict.text, meta, verdict.sections, verdict.nothing_to_improve, verdict.reason)


def rewrite_verdict(original: str, text: str, sections: Mapping[str, str] | None) -> TicketRewriteVerdict:
    """The checks `rewrite(style="ticket")` applies, for a stored run (e.g. before accepting it): `.text` is what
    may be written, `.nothing_to_improve` and `.reason` say when nothing should be."""
    return ticket_rewrite_verdict(original, text, sections)


def embed(texts: Sequence[str], *, feature: str = "embed") -> Embeddings:
    """L2-normalised vectors, one row per text. Without a route of its own this is always the local model."""
    if isinstance(texts, str):
        texts = [texts]
    job = Job("embed", feature, {}, texts=tuple(_text(text) for text in texts))
    payload, meta = _unpack(_run(job))
    return Embeddings(payload["vectors"], payload["model"], meta)


def moderate(text: str, *, feature: str = "moderate") -> Moderation:
    payload, meta = _unpack(_run(Job("moderate", feature, {"text": _text(text)})))
    return Moderation(payload["flagged"], payload["categories"], meta)


def sentiment(text: str, *, feature: str = "sentiment") -> Sentiment:
    payload, meta = _unpack(_run(Job("sentiment", feature, {"text": _text(text)})))
    return Sentiment(payload["label"], payload["score"], meta)


def detect_language(text: str, *, feature: str = "language") -> Language:
    payload, meta = _unpack(_run(Job("language", feature, {"text": _text(text)})))
    return Language(payload["code"], payload["name"], payload["confidence"], meta)


def _unpack(outcome):
    return outcome.payload, outcome.meta


def record_feedback(*, run_id: int, outcome: str, final_text: str | None = None, user: Any = None) -> None:
    """The agent accepted, edited (pass what they finally sent: the edit distance is stored) or rejected a result."""
    services.ai_feedback_record(run_id=run_id, outcome=outcome, final_text=final_text, user=_user(user))


def invalidate_cache(feature: str | None = None) -> None:
    """Forget cached answers of the workspace (or of one feature), e.g. after the knowledge they drew on changed."""
    services.ai_cache_invalidate(feature=feature)


def get_metrics(*, days: int = 30) -> AIMetrics:
    return selectors.ai_metrics(days=days)


def get_run(run_id: int) -> RunRecord:
    """A run of this workspace (e.g. queued with generate_later); AIInputError if there is none."""
    try:
        return selectors.ai_run_get(run_id=run_id)
    except AIRun.DoesNotExist:
        raise AIInputError(f"There is no AI run #{run_id} in this workspace.") from None


def generate_later(
    feature: str,
    context: Mapping[str, Any],
    *,
    user: Any = None,
    json_schema: dict[str, Any] | None = None,
    max_output_tokens: int | None = None,
    on_done: str | None = None,
    on_done_kwargs: dict[str, Any] | None = None,
) -> str:
    """Queues `generate` on Celery (in this workspace's schema) and returns the task id.

    `on_done` names a Celery task of the calling app; it is queued afterwards with `run_id=<ledger id>` plus
    `on_done_kwargs`, whether the run succeeded or not (read it with `get_run(run_id)`).
    """
    from .tasks import ai_generate_task  # Celery is only needed by callers that queue

    return enqueue(
        ai_generate_task,
        feature,
        _context(context),
        getattr(_user(user), "pk", None),
        json_schema=json_schema,
        max_output_tokens=max_output_tokens,
        on_done=on_done,
        on_done_kwargs=on_done_kwargs or {},
    )


# --- Semantic search over the workspace's own objects (always the local model; see ai.vectors) ---------------


def index_text(*, source: str, object_id: str | int, text: str) -> bool:
    """Stores the embedding of an object's text (e.g. source="helpdesk.article"); False when unchanged."""
    return vectors.embedding_upsert(source=source, object_id=object_id, text=text)


def index_texts(*, source: str, items: Sequence[tuple[str | int, str]]) -> int:
    """Many (object_id, text) pairs in batches; returns how many were (re)embedded."""
    return vectors.embeddings_upsert_many(source=source, items=items)


def forget_text(*, source: str, object_id: str | int) -> None:
    vectors.embedding_delete(source=source, object_id=object_id)


def search_similar(
    *, source: str, text: str, k: int = 10, exclude_object_id: str | int | None = None
) -> list[tuple[str, float]]:
    """The `k` objects of `source` closest in meaning to `text`: (object_id, cosine similarity), best first."""
    return vectors.similar(source=source, text=text, k=k, exclude_object_id=exclude_object_id)


def get_vectors(*, source: str, object_ids: Sequence[str | int]) -> tuple[list[str], Any]:
    """The stored vectors of those objects of `source` that have one, for analysis in bulk (e.g. clustering):
    (object ids as strings, an n×384 float32 numpy matrix of L2-normalised rows, in the same order)."""
    return vectors.vectors_get(source=source, object_ids=object_ids)


def has_vectors(*, source: str, object_ids: Sequence[str | int]) -> set[str]:
    """Which of those objects of `source` have a stored vector (as strings), e.g. to embed only the others."""
    return vectors.vector_ids(source=source, object_ids=object_ids)


# --- Trained classifiers and locally built output (see ai.classifiers) --------------------------------------
# ai.classifiers is imported on first use: it pulls in scikit-learn, which most callers of the facade never need.


def classifier_train(
    name: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    fingerprint: str = "",
    label_names: Mapping[str, str] | None = None,
    sources: Mapping[str, int] | None = None,
    background: bool = False,
) -> TrainingReport:
    """A new version of the workspace's classifier `name`, trained on labelled texts given OLDEST FIRST (e.g.
    tickets agents categorised); the newest part is its holdout. It is deployed only if it beats the deployed
    version there (see ai.classifiers). `background`: queue the training on Celery and return at once (status
    "training"); otherwise train here and raise AIInputError when the examples cannot make a model.
    """
    from . import classifiers

    data = TrainingData(
        tuple(texts), tuple(labels), dict(label_names or {}), dict(sources or {}), fingerprint=fingerprint
    )
    return classifiers.classifier_train(name=name, data=data, background=background)


def register_training_source(
    name: str, *, title: str, collect: Callable[[], TrainingData], description: str = ""
) -> None:
    """Tells the AI app where the examples of classifier `name` come from (call from AppConfig.ready): the models
    page trains a new version from `collect()` when an admin asks."""
    from . import classifiers

    classifiers.training_source_register(name, title=title, collect=collect, description=description)


def classifier_train_queue(name: str) -> TrainingReport:
    """A new version of `name` from its registered source, trained in the background; a version already training
    is returned instead of a second one."""
    from . import classifiers

    return classifiers._report(classifiers.model_version_train_queue(name=name))


def classifier_status(name: str, *, latest: bool = False) -> TrainingReport | None:
    """The deployed version of classifier `name`, or None if the workspace has none (use `classify` then).
    `latest`: the newest version whatever its status (to tell whether retraining is due)."""
    from . import classifiers

    return classifiers.classifier_status(name, latest=latest)


def classifier_delete(name: str) -> bool:
    from . import classifiers

    return classifiers.classifier_delete(name)


def classify_trained(name: str, text: str, *, feature: str | None = None, user: Any = None) -> Classification | None:
    """The label the workspace's deployed classifier `name` gives `text`, or None when it has none (then use
    `classify` with label descriptions). When `abstained` is set the model is not sure: make NO suggestion; never
    fall back to `classify`. Runs locally; the ledger row (`meta.model`, e.g. "helpdesk.category v3") names the
    version."""
    from . import classifiers

    return classifiers.classify_trained(name=name, text=_text(text), feature=feature or name, user=_user(user))


# --- Outcome models: a yes/no outcome (lead won, company churned) from a record's fields (see ai.classifiers) --


def outcome_model_train(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    outcomes: Sequence[bool],
    *,
    fingerprint: str = "",
    outcome_names: tuple[str, str] = ("Yes", "No"),
    sources: Mapping[str, int] | None = None,
    background: bool = False,
) -> TrainingReport:
    """A new version of the workspace's outcome model `name` (e.g. "leads.conversion"), trained on records given
    OLDEST FIRST: `rows` map field → str (a category), int/float (a number, e.g. value, days in stage) or None
    (missing); `outcomes[i]` says whether record i's outcome happened (won, churned). `outcome_names` is what people
    call them, e.g. ("Won", "Lost"). The newest fifth is the holdout; the report carries its AUC (`auc`), the naive
    Bayes anchor's (`anchor_auc`), the Brier score, and whether the version was deployed (only if its AUC beats the
    deployed version's on the same holdout, or 0.5 for the first one). At least 20 of each outcome are needed:
    with fewer, AIInputError says how many there are. `background`: queue it and return at once (status
    "training")."""
    from . import classifiers

    data = OutcomeData(
        tuple(dict(row) for row in rows),
        tuple(bool(outcome) for outcome in outcomes),
        tuple(outcome_names),
        dict(sources or {}),
        fingerprint=fingerprint,
    )
    return classifiers.classifier_train(name=name, data=data, background=background)


def register_outcome_source(
    name: str,
    *,
    title: str,
    collect: Callable[[], OutcomeData],
    description: str = "",
    noun: str = "records",
) -> None:
    """Tells the AI app where the records of outcome model `name` come from (call from AppConfig.ready): the models
    page lists it under `title` (e.g. "Lead conversion") and trains a new version from `collect()` when an admin
    asks. `noun` names the records on that page ("leads", "companies")."""
    from . import classifiers

    classifiers.outcome_source_register(name, title=title, collect=collect, description=description, noun=noun)


def outcome_predict(
    name: str,
    row: Mapping[str, Any],
    *,
    feature: str | None = None,
    user: Any = None,
    drivers: int = 5,
    record: bool = True,
) -> OutcomePrediction | None:
    """The deployed outcome model's calibrated probability for one record (same fields as in training; unknown
    values and missing fields are handled), with up to `drivers` fields that drove it, largest first. None when the
    workspace has no deployed version of `name`: then use your documented heuristic. Runs locally in a few ms; with
    `record` a ledger row (`meta.run_id`, `meta.model` e.g. "leads.conversion v3") names the version."""
    if not isinstance(row, Mapping):
        raise AIInputError("The record must be a mapping of field names to values.")
    predictions = outcome_predict_many(name, [row], feature=feature, user=user, drivers=drivers, record=record)
    return predictions[0] if predictions else None


def outcome_predict_many(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    feature: str | None = None,
    user: Any = None,
    drivers: int = 5,
    record: bool = False,
) -> list[OutcomePrediction] | None:
    """As outcome_predict for many records at once (e.g. rescoring every open lead in a job), in order; None when
    there is no deployed version. Not recorded in the ledger unless `record` (then one row for the whole call)."""
    from . import classifiers

    return classifiers.outcome_predict(
        name=name, rows=list(rows), feature=feature or name, user=_user(user), drivers=drivers, record=record
    )


def outcome_status(name: str, *, latest: bool = False) -> TrainingReport | None:
    """The deployed version of outcome model `name` (None: predictions would find no model), or with `latest` its
    newest version whatever its status (to tell whether retraining is due, or show a failure's reason)."""
    from . import classifiers

    return classifiers.classifier_status(name, latest=latest)


def outcome_examples_needed() -> int:
    """How many examples of EACH outcome (e.g. 20 won and 20 lost) training needs: below that, use the heuristic and
    say so ("the model learns once there are 20 won and 20 lost leads")."""
    from .providers.local.outcomes import MIN_PER_CLASS

    return MIN_PER_CLASS


def outcome_train_queue(name: str) -> TrainingReport:
    """A new version of `name` from its registered source (register_outcome_source), trained in the background."""
    return classifier_train_queue(name)


def record_local_output(
    feature: str, text: str, *, data: dict[str, Any] | None = None, model: str = "template", user: Any = None
) -> RunMeta:
    """Records output the caller assembled itself (`model`: "template" for text built from local retrieval and
    templates, "rules" for a rule-based suggestion) as a local run, so feedback on it is measured like any other
    AI output; returns its meta (run_id)."""
    from . import classifiers

    return classifiers.local_output_record(feature=feature, text=_text(text), data=data, model=model, user=_user(user))


def can_generate() -> bool:
    """Whether free-text `generate()` has a provider to try: an enabled external provider the workspace's policy
    allows. When False, `generate()` would raise AIUnavailable; build the text another way instead of asking."""
    workspace = selectors.ai_settings_get()
    return workspace.policy.allow_external_providers and any(entry.enabled for entry in workspace.providers)


def get_feedback(run_id: int) -> tuple[FeedbackRecord, ...]:
    """The agents' verdicts on a run of this workspace, newest first (one per person; none: empty)."""
    rows = AIFeedback.objects.filter(run_id=run_id).order_by("-created", "-id")
    return tuple(FeedbackRecord(row.run_id, row.outcome, row.edit_distance, row.user_id, row.created) for row in rows)


def redact_personal_data(text: str) -> tuple[str, int]:
    """`text` with personal data (e-mail addresses, phone, card and national-id numbers, IBANs, IP addresses)
    replaced by placeholders such as `[EMAIL_1]`, and how many distinct values were replaced: the redaction the
    safety filters apply before a prompt leaves the server, for text that must not carry someone's details."""
    redacted, redactor = safety.redact(_text(text))
    return redacted, redactor.count


__all__ += [
    "OutcomeData",
    "OutcomeDriver",
    "OutcomePrediction",
    "TrainingData",
    "can_generate",
    "classifier_delete",
    "classifier_status",
    "classifier_train",
    "classifier_train_queue",
    "classify_trained",
    "get_feedback",
    "outcome_examples_needed",
    "outcome_model_train",
    "outcome_predict",
    "outcome_predict_many",
    "outcome_status",
    "outcome_train_queue",
    "record_local_output",
    "redact_personal_data",
    "register_outcome_source",
    "register_training_source",
]


def generated_text_problems(text: str, *, facts: str, max_chars: int, source: str = "the facts") -> tuple[str, ...]:
    """Why a generated text for a customer must not be offered (empty when it may): it adds a number, a link or an
    address to `facts`, carries redacted personal data, or is empty or longer than `max_chars` (ai/grounding.py)."""
    return grounding.ungrounded_text_problems(text, facts=facts, max_chars=max_chars, source=source)


# An event's few rows by a statement compiled once (core.compiled): the ORM's compile costs more than the query.
_RUN_ROWS = RowsById(AIRun, lambda of_ids: _with_feedback(AIRun.objects.filter(of_ids)))


def run_rollup_facts(*, ids: Iterable[int] | None = None, since: datetime | None = None) -> Iterator[RunRollupFact]:
    """Runs with `ids`, or (`since`) every run made or given feedback since then; all without either. Feedback is
    counted per run in the same query, read in chunks (insights' rollups)."""
    if ids is not None and since is None:
        rows: Iterable[tuple] = _RUN_ROWS(list(ids))
    else:
        runs = AIRun.objects.order_by()
        if ids is not None:
            runs = runs.filter(pk__in=list(ids))
        if since is not None:
            recent = AIFeedback.objects.filter(created__gte=since).values("run_id")
            runs = runs.filter(Q(created__gte=since) | Q(pk__in=recent))
        rows = _with_feedback(runs).iterator(chunk_size=5000)
    for row in rows:
        pk, created, feature, provider, status, cost, accepted, edited, rejected, distances, distance = row
        micro = int((cost or 0) * 1_000_000)
        yield RunRollupFact(pk, created, feature, provider, status, micro, accepted, edited, rejected, distances,
                            distance or 0)  # fmt: skip


def _with_feedback(runs):  # type: ignore[no-untyped-def]
    outcome = AIFeedback.Outcome
    runs = runs.annotate(
        accepted=Count("feedback", filter=Q(feedback__outcome=outcome.ACCEPTED)),
        edited=Count("feedback", filter=Q(feedback__outcome=outcome.EDITED)),
        rejected=Count("feedback", filter=Q(feedback__outcome=outcome.REJECTED)),
        distances=Count("feedback__edit_distance"),
        distance=Sum("feedback__edit_distance"),
    )
    fields = ("id", "created", "feature", "provider", "status", "cost_usd", "accepted", "edited", "rejected")
    return runs.values_list(*fields, "distances", "distance")


__all__ += ["RunRollupFact", "run_rollup_facts", "runs_changed"]
