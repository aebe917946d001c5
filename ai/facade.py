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

from collections.abc import Mapping, Sequence
from typing import Any

from . import selectors, services
from .contracts import (
    AIInputError,
    AIMetrics,
    AIUnavailable,
    Classification,
    Embeddings,
    Generation,
    Language,
    Moderation,
    Rewrite,
    RunRecord,
    Sentiment,
    Summary,
)
from .models import AIRun
from .operations import Job, check_style, normalise_labels
from .orchestrator import default as _orchestrator

__all__ = [
    "AIInputError",
    "AIUnavailable",
    "classify",
    "detect_language",
    "embed",
    "generate",
    "generate_later",
    "get_metrics",
    "get_run",
    "invalidate_cache",
    "moderate",
    "record_feedback",
    "rewrite",
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
    return Rewrite(payload["text"], meta, dict(payload.get("sections") or {}))


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

    result = ai_generate_task.delay(
        feature,
        _context(context),
        getattr(_user(user), "pk", None),
        json_schema=json_schema,
        max_output_tokens=max_output_tokens,
        on_done=on_done,
        on_done_kwargs=on_done_kwargs or {},
    )
    return result.id
