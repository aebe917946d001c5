"""Ticket analysis: what the AI makes of a ticket, run in Celery after it is created and after each customer message.

`analysis_queue(ticket)` (called by helpdesk.services.tickets inside the writing transaction) marks the ticket
"pending" and queues `analyze_ticket_task` after commit. `ticket_analyze(ticket_id)` runs every part through
ai.facade and stores one JSON document in `Ticket.ai_suggestions`, plus `sentiment`, `language`,
`ai_analysis_date` and an AI_ANALYSED event with the ledger run ids. It never touches what an agent edits
(no version bump, no field an agent owns): suggestions are applied only when an agent clicks Apply.

Faults: an AI outage (AIUnavailable) marks the ticket "failed", keeps the previous analysis and re-raises so
Celery retries with backoff; unusable input (AIInputError) marks it failed without a retry. Running twice on
the same text is a no-op (the document's `input_hash`), and a result computed from text that changed meanwhile
is dropped in favour of the newer run.

The document (`version` 1; every key always present, lists possibly empty):

    {
      "version": 1,
      "input_hash": "<sha256 of what was analysed>",
      "analysed_at": "<ISO 8601>",
      "provenance": {"provider", "model", "cached", "latency_ms", "fallback_from"},   # of the summary run
      "runs": {"language": <run meta>, "sentiment": …, "summary": …, "structure": …, "type": …,
               "priority": …, "category": …},                                     # run meta as in provenance + run_id
      "run_ids": [<int>, …],
      "summary": {"text": str, "keywords": [str]},
      "suggestions": {                                   # each: applied or dismissed by an agent in the panel
        "category": {"value": <Category id>, "label": str, "confidence": 0–1, "method": "trained"|"zero_shot",
                     "reasons": [str], "run_id": int, "status": "open"|"applied"|"dismissed",
                     "model_version": "helpdesk.category v3" (trained only)} | null,
        "priority": {"value": "low"|"normal"|"high"|"urgent", …same keys…, "method": "trained"|"rules"},
        "type":     {"value": "question"|"incident"|"problem"|"task", …,
                     "method": "trained"|"rules"|"rules+zero_shot"},
        "sentiment": {"value": "positive"|"neutral"|"negative", "score": -1…1, …},
        "language": {"value": "<ISO 639-1>", …}
      },
      "abstained": {"category": {"model", "run_id", "confidence", "text"}},   # the workspace's model was unsure:
                                                 # no suggestion (category is null), and the panel says so
      "sections": {"summary", "steps", "expected", "actual", "environment"},   # the ticket restructured
      "questions": [{"key": "steps"|"expected"|"actual"|"environment"|"account"|"screenshots", "text": str}],
      "next_actions": [{"key": str, "text": str}],
      "similar_tickets": [{"ticket_id", "subject", "score", "solution", "reply_text", "url"}],  # reply_text: reusable
      "kb_articles": [{"article_id", "title", "url", "score", "reason", "public"}],
      "sla_risk": {"available": bool, "probability": 0–1|null, "level": str, "factors": [{"text", "weight"}],
                   "note": str},
      "auto_response": {"ok": bool, "confidence": 0–1, "reasons": [str]},
      "notes": [str]                                     # parts that could not be computed, and why
    }

After a failure the document also holds `"last_error": {"at", "reason", "permanent"}` (a never-analysed ticket
has only that); `permanent` marks input no retry can fix.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from ai import facade
from core.outbox import enqueue_on_commit

from ... import live
from ...models import Category, Ticket, TicketEvent
from ...selectors import ticket_ai as selectors
from ...selectors.config import helpdesk_settings_get
from . import rules
from .classifier import CATEGORY_CLASSIFIER, PRIORITY_CLASSIFIER, TYPE_CLASSIFIER

logger = logging.getLogger(__name__)

ANALYSIS_VERSION = 1
FEATURES = {
    "language": "helpdesk.language",
    "sentiment": "helpdesk.sentiment",
    "summary": "helpdesk.summary",
    "structure": "helpdesk.structure",
    "type": "helpdesk.type",
    "priority": "helpdesk.priority",
    "category": "helpdesk.category",
}


# --- Queueing ------------------------------------------------------------------------------------


def analysis_queue(ticket: Ticket) -> bool:
    """Marks the ticket's analysis pending and queues it after commit; False when the workspace turned AI off.

    A broker outage is never raised: the task waits in core's outbox and is sent when the broker is back.
    """
    if not helpdesk_settings_get().analysis_enabled:
        return False
    shown_before = bool(ticket.ai_analysis_status)
    Ticket.objects.filter(pk=ticket.pk).update(ai_analysis_status=Ticket.AnalysisStatus.PENDING)
    ticket.ai_analysis_status = Ticket.AnalysisStatus.PENDING
    from ...tasks.ticket_ai import analyze_ticket_task  # tasks import this module

    enqueue_on_commit(analyze_ticket_task, ticket.pk)
    if shown_before:  # a panel may be open on it: show "queued" (a brand-new ticket has no page open yet)
        live.ai_panel_changed(ticket.pk)
    return True


# --- Running -------------------------------------------------------------------------------------


def ticket_analyze(ticket_id: int) -> dict[str, Any] | None:
    """Analyses the ticket and stores the result; None when it is gone or nothing changed since the last run.

    Raises AIUnavailable when no provider could answer (the ticket is marked failed; Celery retries).
    """
    source = selectors.analysis_input(ticket_id=ticket_id)
    if source is None:
        return None
    digest = source.digest(ANALYSIS_VERSION)
    if source.ticket.ai_analysis_status == Ticket.AnalysisStatus.DONE and _stored_hash(source.ticket) == digest:
        return None
    try:
        document = _analyse(source, digest)
    except facade.AIUnavailable as error:
        _mark_failed(ticket_id, f"AI provider unavailable: {error}")
        raise
    except facade.AIInputError as error:
        _mark_failed(ticket_id, f"The ticket cannot be analysed: {error}", permanent=True)
        return None
    except Exception:
        _mark_failed(ticket_id, "The analysis hit an unexpected error; it will be tried again.")
        raise
    if not _store(ticket_id, document):
        return None
    _auto_respond(ticket_id)
    return document


def _stored_hash(ticket: Ticket) -> str:
    document = ticket.ai_suggestions if isinstance(ticket.ai_suggestions, dict) else {}
    return document.get("input_hash", "")


def _auto_respond(ticket_id: int) -> None:
    from .auto_response import ticket_auto_respond  # auto_response reads analysis results: imported when needed

    try:
        ticket_auto_respond(ticket_id)
    except Exception:  # the analysis is stored; an auto-response problem must not undo or retry it
        logger.exception("auto-response failed for ticket #%s", ticket_id)


def run_meta(meta: Any) -> dict[str, Any]:
    return {
        "run_id": meta.run_id,
        "provider": meta.provider,
        "model": meta.model,
        "cached": meta.cached,
        "latency_ms": round(meta.latency_ms, 1),
        "fallback_from": list(meta.fallback_from),
    }


def _analyse(source: selectors.AnalysisInput, digest: str) -> dict[str, Any]:
    ticket, text = source.ticket, source.text
    notes: list[str] = []
    language = facade.detect_language(text, feature=FEATURES["language"])
    sentiment = facade.sentiment(source.latest_customer_text, feature=FEATURES["sentiment"])
    summary = facade.summarize(text, feature=FEATURES["summary"], max_sentences=2)
    structure = facade.rewrite(source.search_text, style="ticket", feature=FEATURES["structure"])
    ticket_type, type_entry, type_meta = _type(source, has_failure_report=bool(structure.sections.get("actual")))
    _, priority_entry, priority_meta = _priority(source, sentiment_score=sentiment.score)
    category, category_meta, category_abstention = _category(source.search_text, source.categories)
    runs = {
        "language": run_meta(language.meta),
        "sentiment": run_meta(sentiment.meta),
        "summary": run_meta(summary.meta),
        "structure": run_meta(structure.meta),
        "type": run_meta(type_meta),
        "priority": run_meta(priority_meta),
        **({"category": run_meta(category_meta)} if category_meta else {}),
    }
    suggestions = {
        "category": category,
        "priority": priority_entry,
        "type": type_entry,
        "sentiment": _sentiment_suggestion(sentiment),
        "language": _suggestion(
            language.code,
            language.name,
            round(language.confidence, 2),
            (f"Detected in the ticket text ({language.confidence:.0%} sure).",),
            language.meta.run_id,
            "detector",
        ),
    }
    questions = rules.missing_information(
        sections=structure.sections, ticket_type=ticket_type, text=text, has_attachments=source.has_attachments
    )
    document = {
        "version": ANALYSIS_VERSION,
        "input_hash": digest,
        "analysed_at": timezone.now().isoformat(),
        "provenance": run_meta(summary.meta),
        "runs": runs,
        "run_ids": [meta["run_id"] for meta in runs.values() if meta["run_id"]],
        "summary": {"text": summary.text, "keywords": list(summary.keywords)[:6]},
        "suggestions": suggestions,
        "abstained": {"category": category_abstention} if category_abstention else {},
        "sections": {key: structure.sections.get(key, "") for key in rules.TICKET_SECTIONS},
        "questions": questions,
        "similar_tickets": _guarded(
            notes, "similar tickets", lambda: selectors.similar_solved_tickets(ticket.pk, source.search_text)
        ),
        "kb_articles": _guarded(
            notes, "knowledge-base articles", lambda: selectors.kb_article_suggestions(source.search_text)
        ),
        "sla_risk": sla_risk(ticket, notes),
        "notes": notes,
    }
    from .auto_response import should_auto_close

    document["auto_response"] = should_auto_close(ticket, analysis=document).as_dict()
    document["next_actions"] = rules.next_actions(_facts(ticket, document))
    return document


def _sentiment_suggestion(sentiment: Any) -> dict[str, Any]:
    reason = f"Tone of the customer's latest words (score {sentiment.score:+.2f})."
    entry = _suggestion(
        sentiment.label,
        sentiment.label.title(),
        round(abs(sentiment.score), 2),
        (reason,),
        sentiment.meta.run_id,
        "lexicon",
    )
    return {**entry, "score": round(sentiment.score, 3)}


def _suggestion(value: Any, label: str, confidence: float, reasons, run_id: int | None, method: str) -> dict:
    return {
        "value": value,
        "label": label,
        "confidence": confidence,
        "reasons": list(reasons),
        "run_id": run_id,
        "method": method,
        "status": "open",
    }


def _guarded(notes: list[str], what: str, compute) -> list:
    """Retrieval parts are extras: when one fails the analysis still lands, with a note saying what is missing."""
    try:
        return compute()
    except facade.AIUnavailable:
        raise
    except Exception:
        logger.exception("could not find %s for the analysis", what)
        notes.append(f"Could not look up {what} this time.")
        return []


def _trained_reasons(name: str, result: Any, examples: str) -> tuple[str, ...]:
    status = facade.classifier_status(name)
    if status is None or status.accuracy is None:
        return (f"Learnt from {examples} by your model.",)
    return (
        f"Learnt from {status.examples} {examples} (your model, version {status.version}); right on "
        f"{status.accuracy:.0%} of the newest tickets it was tested on.",
    )


def _abstention(result: Any) -> dict[str, Any]:
    """What the panel says when the workspace's model is not sure: no suggestion, and why."""
    return {
        "model": result.meta.model,
        "run_id": result.meta.run_id,
        "confidence": round(result.confidence, 2),
        "text": "Not confident — no suggestion.",
    }


def _category(text: str, categories: tuple[Category, ...]) -> tuple[dict | None, Any, dict | None]:
    """(suggestion, run meta, abstention): the workspace's deployed model when it has one — and when that model
    is not sure, no suggestion at all (zero-shot guesses were almost always wrong where the model was unsure).
    Zero-shot on the category descriptions only for workspaces without a model."""
    if len(categories) < 2:
        return None, None, None
    by_id = {str(category.pk): category for category in categories}
    trained = facade.classify_trained(CATEGORY_CLASSIFIER, text, feature=FEATURES["category"])
    if trained is not None:
        if trained.abstained or trained.label not in by_id:
            return None, trained.meta, _abstention(trained)
        category = by_id[trained.label]
        reasons = _trained_reasons(CATEGORY_CLASSIFIER, trained, "tickets your agents categorised")
        confidence, run_id = round(trained.confidence, 2), trained.meta.run_id
        entry = _suggestion(category.pk, category.name, confidence, reasons, run_id, "trained")
        return {**entry, "model_version": trained.meta.model}, trained.meta, None
    descriptions = {category.name: category.description or category.name for category in categories}
    result = facade.classify(text, descriptions, feature=FEATURES["category"])
    category = next(category for category in categories if category.name == result.label)
    reasons = (
        f"Closest to the category description “{category.description}”.",
        "Categorise more tickets to train a model on your own categories.",
    )
    confidence = round(result.confidence, 2)
    entry = _suggestion(category.pk, category.name, confidence, reasons, result.meta.run_id, "zero_shot")
    return entry, result.meta, None


def _trained_choice(name: str, source: selectors.AnalysisInput, feature: str, choices) -> Any:
    """The deployed model's confident answer among `choices`, or (None, result) when it abstained or has none."""
    result = facade.classify_trained(name, source.search_text, feature=feature)
    if result is None or result.abstained or result.label not in choices.values:
        return None, result
    return result, result


def _priority(source: selectors.AnalysisInput, *, sentiment_score: float) -> tuple[Any, dict, Any]:
    """(value, suggestion, run meta): the workspace's priority model once it has history, else the rules. When the
    model is unsure the transparent rules answer and say so (they are rules, not a guessing model)."""
    ticket, text = source.ticket, source.text
    priority = rules.priority_suggest(text, sentiment_score=sentiment_score, customer_tier=ticket.customer.tier)
    trained, asked = _trained_choice(PRIORITY_CLASSIFIER, source, FEATURES["priority"], Ticket.Priority)
    if trained is not None:
        reasons = _trained_reasons(PRIORITY_CLASSIFIER, trained, "solved tickets")
        entry = _suggestion(
            trained.label, trained.label.title(), round(trained.confidence, 2), reasons, trained.meta.run_id, "trained"
        )
        return trained.label, {**entry, "model_version": trained.meta.model}, trained.meta
    reasons = (*priority.reasons, _unsure(asked)) if asked else tuple(priority.reasons)
    meta = facade.record_local_output(
        FEATURES["priority"], priority.value, data={"reasons": list(reasons)}, model="rules"
    )
    entry = _suggestion(priority.value, priority.value.title(), priority.confidence, reasons, meta.run_id, "rules")
    return priority.value, entry, meta


def _type(source: selectors.AnalysisInput, *, has_failure_report: bool) -> tuple[Any, dict, Any]:
    """(value, suggestion, run meta): the workspace's type model once it has history; else cue phrases blended with
    zero-shot — and when a model exists but is unsure, the cue phrases alone (never a zero-shot guess)."""
    text = source.text
    trained, asked = _trained_choice(TYPE_CLASSIFIER, source, FEATURES["type"], Ticket.Type)
    if trained is not None:
        reasons = _trained_reasons(TYPE_CLASSIFIER, trained, "solved tickets")
        value, confidence = trained.label, round(trained.confidence, 2)
        entry = _suggestion(value, value.title(), confidence, reasons, trained.meta.run_id, "trained")
        return value, {**entry, "model_version": trained.meta.model}, trained.meta
    if asked is not None:
        suggested = rules.type_suggest(text, zero_shot={}, has_failure_report=has_failure_report)
        reasons = (*suggested.reasons, _unsure(asked))
        meta = facade.record_local_output(
            FEATURES["type"], suggested.value, data={"reasons": list(reasons)}, model="rules"
        )
        entry = _suggestion(
            suggested.value, suggested.value.title(), suggested.confidence, reasons, meta.run_id, "rules"
        )
        return suggested.value, entry, meta
    zero_shot = facade.classify(text, rules.TYPE_DESCRIPTIONS, feature=FEATURES["type"])
    suggested = rules.type_suggest(text, zero_shot=zero_shot.scores, has_failure_report=has_failure_report)
    entry = _suggestion(
        suggested.value,
        suggested.value.title(),
        suggested.confidence,
        suggested.reasons,
        zero_shot.meta.run_id,
        "rules+zero_shot",
    )
    return suggested.value, entry, zero_shot.meta


def _unsure(result: Any) -> str:
    return f"Your model was not confident ({result.confidence:.0%}), so the rules decided."


def sla_risk(ticket: Ticket, notes: list[str]) -> dict[str, Any]:
    """The SLA work's breach prediction, or a plain "not available" (never a guess of our own)."""
    unavailable = {"available": False, "probability": None, "level": "unknown", "factors": []}
    try:
        from ..sla import ticket_sla_risk_assess
    except ImportError:
        return {**unavailable, "note": "SLA risk prediction is not installed."}
    try:
        risk = ticket_sla_risk_assess(ticket)
    except Exception:
        logger.exception("SLA risk assessment failed for ticket #%s", ticket.pk)
        notes.append("Could not assess the SLA risk this time.")
        return {**unavailable, "note": "The SLA risk could not be assessed this time."}
    probability = getattr(risk, "probability", None)
    return {
        "available": probability is not None,
        "probability": round(float(probability), 3) if probability is not None else None,
        "level": str(getattr(risk, "level", "") or "unknown"),
        "factors": [_factor(factor) for factor in (getattr(risk, "factors", None) or ())][:6],
        "note": "",
    }


def _factor(factor: Any) -> dict[str, Any]:
    """A factor of the SLA risk as text with an optional weight, whatever shape the risk model gives it."""
    if isinstance(factor, str):
        return {"text": factor, "weight": None}
    if isinstance(factor, (tuple, list)) and factor:
        weight = factor[1] if len(factor) > 1 and isinstance(factor[1], (int, float)) else None
        return {"text": str(factor[0]), "weight": weight}
    get = factor.get if isinstance(factor, dict) else lambda name: getattr(factor, name, None)
    text = next((get(name) for name in ("text", "label", "description", "name") if get(name)), str(factor))
    weight = next((get(name) for name in ("weight", "impact", "contribution") if get(name) is not None), None)
    return {"text": str(text), "weight": round(float(weight), 3) if isinstance(weight, (int, float)) else None}


def _facts(ticket: Ticket, document: dict[str, Any]) -> rules.TicketFacts:
    category = document["suggestions"]["category"]
    return rules.TicketFacts(
        assigned=bool(ticket.assignee_id or ticket.team_id),
        responded=ticket.first_responded_at is not None,
        current_category=ticket.category.name if ticket.category_id else "",
        suggested_category=category["label"] if category else "",
        sentiment=document["suggestions"]["sentiment"]["value"],
        sla_level=document["sla_risk"]["level"],
        questions=len(document["questions"]),
        kb_titles=tuple(article["title"] for article in document["kb_articles"]),
        similar_ids=tuple(item["ticket_id"] for item in document["similar_tickets"]),
        auto_response_ok=document["auto_response"]["ok"],
    )


# --- Storing -------------------------------------------------------------------------------------


def _carry_decisions(previous: dict[str, Any], document: dict[str, Any]) -> None:
    """An agent who applied or dismissed a suggestion is not asked again when the next analysis agrees."""
    before = previous.get("suggestions") or {}
    for kind, entry in document["suggestions"].items():
        old = before.get(kind)
        if entry and old and old.get("value") == entry["value"] and old.get("status") in ("applied", "dismissed"):
            entry["status"] = old["status"]
            entry["decided_by"] = old.get("decided_by")


def _store(ticket_id: int, document: dict[str, Any]) -> bool:
    """Saves the analysis unless the ticket changed while it ran (a newer run stores its own) or it is a repeat."""
    with transaction.atomic():
        row = Ticket.objects.select_for_update().filter(pk=ticket_id).values("ai_suggestions", "ai_analysis_status")
        row = row.first()
        current = selectors.analysis_input(ticket_id=ticket_id)
        if row is None or current is None or current.digest(ANALYSIS_VERSION) != document["input_hash"]:
            return False
        previous = row["ai_suggestions"] if isinstance(row["ai_suggestions"], dict) else {}
        if (
            row["ai_analysis_status"] == Ticket.AnalysisStatus.DONE
            and previous.get("input_hash") == document["input_hash"]
        ):
            return False
        _carry_decisions(previous, document)
        suggestions = document["suggestions"]
        Ticket.objects.filter(pk=ticket_id).update(
            ai_suggestions=document,
            ai_analysis_status=Ticket.AnalysisStatus.DONE,
            ai_analysis_date=timezone.now(),
            sentiment="" if suggestions["sentiment"]["status"] == "dismissed" else suggestions["sentiment"]["value"],
            language="" if suggestions["language"]["status"] == "dismissed" else suggestions["language"]["value"],
        )
        TicketEvent.objects.create(
            ticket_id=ticket_id,
            kind=TicketEvent.Kind.AI_ANALYSED,
            data={
                "run_ids": document["run_ids"],
                "provider": document["provenance"]["provider"],
                "suggested": {kind: entry["value"] for kind, entry in suggestions.items() if entry},
            },
        )
        live.ai_panel_changed(ticket_id)
    return True


def _mark_failed(ticket_id: int, reason: str, *, permanent: bool = False) -> None:
    """The previous analysis (if any) stays visible, marked as failed; the ticket itself is untouched.

    `permanent`: retrying the same text cannot help (the periodic catch-up skips it; a new message re-queues it).
    """
    with transaction.atomic():
        row = Ticket.objects.select_for_update().filter(pk=ticket_id).values("ai_suggestions").first()
        if row is None:
            return
        document = dict(row["ai_suggestions"]) if isinstance(row["ai_suggestions"], dict) else {}
        document["last_error"] = {"at": timezone.now().isoformat(), "reason": reason[:300], "permanent": permanent}
        Ticket.objects.filter(pk=ticket_id).update(
            ai_analysis_status=Ticket.AnalysisStatus.FAILED, ai_suggestions=document
        )
        live.ai_panel_changed(ticket_id)
