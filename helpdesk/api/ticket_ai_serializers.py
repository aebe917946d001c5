"""API shapes of the AI on a ticket: its analysis and suggestions, reply drafts, the improved description.

The analysis is a JSON document on the ticket (helpdesk.services.ticket_ai.analysis) and drafts and proposals
are dataclasses of the ticket-AI services. Both grow keys over time, and a document written before a key existed
lacks it, so every reader here takes what is present and falls back to an empty value: the answer always has
every documented key, whatever the age of the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api.serializers import InputSerializer

from ..models import Ticket, TicketDraft
from ..selectors.ticket_ai import ticket_analysis_state
from ..services.ticket_ai import SUGGESTION_KINDS, Draft, Source, Suggestion
from ..services.tickets import MAX_BODY

SECTION_KEYS = ("summary", "steps", "expected", "actual", "environment")
ANALYSIS_STATES = {
    "none": "never analysed (or the workspace turned the analysis off before it ran)",
    "queued": "an analysis is queued or running",
    "failed": "the last analysis failed (see `error`)",
    "done": "analysed",
}


class _Output(serializers.Serializer):
    """An answer, never input: every field is read-only, so the schema documents each as always present (and
    puts no input rules, such as "not blank", on texts that may be empty)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            _read_only(field)
        return fields


def _read_only(field: serializers.Field) -> None:
    field.read_only, field.required = True, False
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        _read_only(child)


# A URL builder: the request's build_absolute_uri, so links open on the workspace's own host.
Absolute = Callable[[str], str]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(value: Any) -> datetime | None:
    """A stored ISO 8601 time, or None for anything else (the schema promises a date-time or null)."""
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _version_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


# --- Suggestions ---------------------------------------------------------------------------------------


class RunSerializer(_Output):
    """Which AI run produced a part of the analysis (the ledger row agents' feedback is recorded against)."""

    run_id = serializers.IntegerField(allow_null=True)
    provider = serializers.CharField(help_text="“local” when made offline, else the external provider.")
    model = serializers.CharField()
    cached = serializers.BooleanField()
    latency_ms = serializers.FloatField(allow_null=True)
    fallback_from = serializers.ListField(child=serializers.CharField(), help_text="Providers tried first.")


def run_data(meta: Any) -> dict[str, Any] | None:
    meta = _dict(meta)
    if not meta:
        return None
    return {
        "run_id": _whole(meta.get("run_id")),
        "provider": _text(meta.get("provider")),
        "model": _text(meta.get("model")),
        "cached": bool(meta.get("cached")),
        "latency_ms": _number(meta.get("latency_ms")),
        "fallback_from": [str(name) for name in _list(meta.get("fallback_from"))],
    }


@extend_schema_serializer(component_name="TicketAISuggestion")
class SuggestionSerializer(_Output):
    kind = serializers.CharField(help_text="What it is about: " + ", ".join(SUGGESTION_KINDS) + ".")
    value = serializers.JSONField(
        allow_null=True,
        help_text="What the AI suggests: the category's id for `category`, a ticket field value for priority and "
        "type, positive/neutral/negative for sentiment, an ISO 639-1 code for language.",
    )
    label = serializers.CharField(help_text="The value as people read it (the category's name).")
    confidence = serializers.FloatField(allow_null=True, help_text="0–1.")
    method = serializers.CharField(
        help_text="How it was made: trained (the workspace's own model), zero_shot, rules, rules+zero_shot, "
        "lexicon, detector…"
    )
    model_version = serializers.CharField(
        allow_null=True, help_text="The version of the workspace's trained model that made it, when one did."
    )
    abstained = serializers.BooleanField(
        help_text="True: the trained model was not sure enough and suggests nothing (`value` is null)."
    )
    reasons = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField(help_text="open until an agent applies or dismisses it: applied, dismissed.")
    matches_ticket = serializers.BooleanField(help_text="The ticket already has this value: nothing to apply.")
    actionable = serializers.BooleanField(help_text="Open and different from the ticket: an agent can apply it.")
    score = serializers.FloatField(allow_null=True, help_text="Sentiment only: −1 (upset) … 1 (happy).")
    run = RunSerializer(allow_null=True)


def _current_value(ticket: Ticket, kind: str) -> Any:
    return ticket.category_id if kind == "category" else getattr(ticket, kind, None)


def _run_of(runs: dict[str, Any], kind: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The run as the document recorded it; an older document has only the entry's run id."""
    return run_data(runs.get(kind)) or (run_data({"run_id": entry["run_id"]}) if entry.get("run_id") else None)


def _suggestion_row(ticket: Ticket, kind: str, entry: dict[str, Any], runs: dict[str, Any]) -> dict[str, Any]:
    value = entry.get("value")
    status = entry.get("status") if entry.get("status") in ("applied", "dismissed") else "open"
    matches = kind in ("category", "priority", "type") and value is not None and _current_value(ticket, kind) == value
    return {
        "kind": kind,
        "value": value,
        "label": _text(entry.get("label")) or ("" if value is None else str(value)),
        "confidence": _number(entry.get("confidence")),
        "method": _text(entry.get("method")),
        "model_version": _version_text(entry.get("model_version")),
        "abstained": bool(entry.get("abstained")) or (value is None and kind == "category"),
        "reasons": [str(reason) for reason in _list(entry.get("reasons"))],
        "status": status,
        "matches_ticket": matches,
        "actionable": status == "open" and not matches and value is not None,
        "score": _number(entry.get("score")),
        "run": _run_of(runs, kind, entry),
    }


def _abstention_entry(gap: dict[str, Any]) -> dict[str, Any]:
    """The document keeps an abstention beside the suggestions (`abstained`, see ticket_ai.analysis): here it is a
    suggestion row with no value, so API clients see "not confident — no suggestion" like the panel shows it."""
    return {
        "value": None,
        "label": "",
        "confidence": gap.get("confidence"),
        "method": "trained",
        "abstained": True,
        "model_version": gap.get("model"),
        "reasons": [gap["text"]] if gap.get("text") else [],
        "run_id": gap.get("run_id"),
    }


def suggestion_list(ticket: Ticket, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The suggestions of the analysis, in the panel's order (kinds without one are left out)."""
    suggestions, runs = _dict(document.get("suggestions")), _dict(document.get("runs"))
    abstained = _dict(document.get("abstained"))
    entries = {
        kind: _dict(suggestions.get(kind))
        or (_abstention_entry(_dict(abstained.get(kind))) if _dict(abstained.get(kind)) else {})
        for kind in SUGGESTION_KINDS
    }
    return [_suggestion_row(ticket, kind, entry, runs) for kind, entry in entries.items() if entry]


# --- The analysis --------------------------------------------------------------------------------------


class AnalysisErrorSerializer(_Output):
    reason = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    permanent = serializers.BooleanField(help_text="True: retrying the same text cannot help.")


class KeyTextSerializer(_Output):
    key = serializers.CharField()
    text = serializers.CharField()


class SimilarTicketSerializer(_Output):
    ticket_id = serializers.IntegerField()
    subject = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    solution = serializers.CharField(help_text="The agent's answer on that ticket. Internal: not for customers.")
    url = serializers.CharField(help_text="The ticket in the agent workspace.")


class KBArticleSuggestionSerializer(_Output):
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="The article in the agent workspace.")
    public_url = serializers.CharField(help_text="Its help-center page, for customers; empty if it is internal.")
    score = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    public = serializers.BooleanField()


class SLARiskFactorSerializer(_Output):
    text = serializers.CharField()
    weight = serializers.FloatField(allow_null=True)


class SLARiskSerializer(_Output):
    available = serializers.BooleanField()
    probability = serializers.FloatField(allow_null=True, help_text="0–1: how likely a target is missed.")
    level = serializers.CharField()
    factors = SLARiskFactorSerializer(many=True)
    note = serializers.CharField()


class AutoResponseSerializer(_Output):
    ok = serializers.BooleanField(help_text="Simple enough to answer from a public article without an agent.")
    confidence = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class SectionsSerializer(_Output):
    summary = serializers.CharField()
    steps = serializers.CharField()
    expected = serializers.CharField()
    actual = serializers.CharField()
    environment = serializers.CharField()


@extend_schema_serializer(component_name="TicketAIAnalysis")
class AnalysisSerializer(_Output):
    ticket_id = serializers.IntegerField()
    url = serializers.URLField(help_text="This analysis: poll it after asking for a new one.")
    state = serializers.CharField(help_text="; ".join(f"{key}: {text}" for key, text in ANALYSIS_STATES.items()))
    stale = serializers.BooleanField(help_text="An older analysis is shown while a new one is queued or failed.")
    analysed_at = serializers.DateTimeField(allow_null=True)
    error = AnalysisErrorSerializer(allow_null=True, help_text="Why the last analysis failed, if it did.")
    summary = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    sentiment = serializers.CharField(help_text="On the ticket: positive, neutral, negative or empty.")
    language = serializers.CharField(help_text="On the ticket: ISO 639-1, or empty.")
    suggestions = SuggestionSerializer(many=True)
    sections = SectionsSerializer(help_text="The description restructured (empty texts where it says nothing).")
    questions = KeyTextSerializer(many=True, help_text="What to ask the requester.")
    next_actions = KeyTextSerializer(many=True)
    similar_tickets = SimilarTicketSerializer(many=True, help_text="Solved tickets like this one. Internal.")
    kb_articles = KBArticleSuggestionSerializer(many=True)
    sla_risk = SLARiskSerializer(allow_null=True)
    auto_response = AutoResponseSerializer(allow_null=True)
    provenance = RunSerializer(allow_null=True, help_text="Who made the summary: “local” means made offline.")
    notes = serializers.ListField(child=serializers.CharField(), help_text="Parts that could not be computed.")


def analysis_state(ticket: Ticket, document: dict[str, Any]) -> str:
    """The panel's state, in the API's words: "none" where the panel says "off"."""
    state = ticket_analysis_state(ticket, document)
    return "none" if state == "off" else state


def _error(document: dict[str, Any]) -> dict[str, Any] | None:
    failure = _dict(document.get("last_error"))
    if not failure:
        return None
    return {
        "reason": _text(failure.get("reason")),
        "at": _moment(failure.get("at")),
        "permanent": bool(failure.get("permanent")),
    }


def _key_texts(items: Any) -> list[dict[str, str]]:
    return [
        {"key": _text(item.get("key")), "text": _text(item.get("text"))} for item in map(_dict, _list(items)) if item
    ]


def _similar(items: Any, absolute: Absolute) -> list[dict[str, Any]]:
    return [
        {
            "ticket_id": item["ticket_id"],
            "subject": _text(item.get("subject")),
            "score": _number(item.get("score")),
            "solution": _text(item.get("solution")),
            "url": absolute(_text(item.get("url"))),
        }
        for item in map(_dict, _list(items))
        if _whole(item.get("ticket_id")) is not None
    ]


def _articles(items: Any, absolute: Absolute) -> list[dict[str, Any]]:
    return [
        {
            "article_id": item["article_id"],
            "title": _text(item.get("title")),
            "url": absolute(_text(item.get("url"))),
            "public_url": absolute(_text(item.get("public_url"))) if item.get("public") else "",
            "score": _number(item.get("score")),
            "reason": _text(item.get("reason")),
            "public": bool(item.get("public")),
        }
        for item in map(_dict, _list(items))
        if _whole(item.get("article_id")) is not None
    ]


def _sla_risk(value: Any) -> dict[str, Any] | None:
    risk = _dict(value)
    if not risk:
        return None
    factors = [
        {"text": _text(factor.get("text")), "weight": _number(factor.get("weight"))}
        for factor in map(_dict, _list(risk.get("factors")))
    ]
    return {
        "available": bool(risk.get("available")),
        "probability": _number(risk.get("probability")),
        "level": _text(risk.get("level")),
        "factors": factors,
        "note": _text(risk.get("note")),
    }


def _auto_response(value: Any) -> dict[str, Any] | None:
    decision = _dict(value)
    if not decision:
        return None
    return {
        "ok": bool(decision.get("ok")),
        "confidence": _number(decision.get("confidence")),
        "reasons": [str(reason) for reason in _list(decision.get("reasons"))],
    }


def analysis_data(ticket: Ticket, *, url: str, absolute: Absolute) -> dict[str, Any]:
    """The ticket's stored analysis as the API shows it; no query (the document travels on the ticket row)."""
    document = _dict(ticket.ai_suggestions)
    state = analysis_state(ticket, document)
    summary = _dict(document.get("summary"))
    sections = _dict(document.get("sections"))
    data = {
        "ticket_id": ticket.pk,
        "url": url,
        "state": state,
        "stale": state in ("queued", "failed") and bool(document.get("version")),
        "analysed_at": _moment(document.get("analysed_at")),
        "error": _error(document),
        "summary": _text(summary.get("text")),
        "keywords": [str(keyword) for keyword in _list(summary.get("keywords"))],
        "sentiment": ticket.sentiment or "",
        "language": ticket.language or "",
        "suggestions": suggestion_list(ticket, document),
        "sections": {key: _text(sections.get(key)) for key in SECTION_KEYS},
        "questions": _key_texts(document.get("questions")),
        "next_actions": _key_texts(document.get("next_actions")),
        "similar_tickets": _similar(document.get("similar_tickets"), absolute),
        "kb_articles": _articles(document.get("kb_articles"), absolute),
        "sla_risk": _sla_risk(document.get("sla_risk")),
        "auto_response": _auto_response(document.get("auto_response")),
        "provenance": run_data(document.get("provenance")),
        "notes": [str(note) for note in _list(document.get("notes"))],
    }
    return AnalysisSerializer(data).data


@extend_schema_serializer(component_name="TicketAISuggestionList")
class SuggestionListSerializer(_Output):
    ticket_id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The ticket's version (applying a suggestion changes it).")
    state = serializers.CharField(help_text="The analysis' state: " + ", ".join(ANALYSIS_STATES) + ".")
    results = SuggestionSerializer(many=True)


def suggestion_list_data(ticket: Ticket) -> dict[str, Any]:
    document = _dict(ticket.ai_suggestions)
    data = {
        "ticket_id": ticket.pk,
        "version": ticket.version,
        "state": analysis_state(ticket, document),
        "results": suggestion_list(ticket, document),
    }
    return SuggestionListSerializer(data).data


class SuggestionDecisionSerializer(InputSerializer):
    # Not "kind"/"action": enum names are global in the schema, and a message already has a `kind`.
    suggestion = serializers.ChoiceField(choices=SUGGESTION_KINDS, help_text="Which suggestion.")
    decision = serializers.ChoiceField(
        choices=["apply", "dismiss"],
        help_text="apply: set the ticket's field to the suggestion (sentiment and language: confirm it); "
        "dismiss: the suggestion is wrong (sentiment and language are cleared from the ticket).",
    )


# --- Reply drafts --------------------------------------------------------------------------------------


class DraftSourceSerializer(_Output):
    number = serializers.IntegerField(help_text="How the draft cites it: [1], [2]…")
    kind = serializers.CharField(help_text="article or ticket (a solved ticket).")
    id = serializers.IntegerField(help_text="The article's or the solved ticket's id.")
    title = serializers.CharField()
    url = serializers.CharField()
    excerpt = serializers.CharField(help_text="The passage the draft drew on.")
    score = serializers.FloatField(allow_null=True, help_text="How well it matches the ticket, 0–1.")
    internal = serializers.BooleanField(help_text="For agents only: never show it or its link to a customer.")


class DraftSerializer(_Output):
    text = serializers.CharField(help_text="The reply as drafted; an agent reviews it before sending.")
    run_id = serializers.IntegerField(
        allow_null=True, help_text="Send it as the reply's `ai_run_id` so the feedback is recorded."
    )
    confidence = serializers.FloatField(allow_null=True, help_text="How well the best source matches, 0–1.")
    customer_safe = serializers.BooleanField(
        help_text="Drawn from customer-facing sources only, and no problem found: it may reach a customer as it is."
    )
    problems = serializers.ListField(
        child=serializers.CharField(), help_text="Why the text must be edited before it reaches a customer."
    )
    provider = serializers.CharField(help_text="“local”: assembled offline from the sources' own words.")
    model = serializers.CharField()
    sources = DraftSourceSerializer(many=True, help_text="Customer-facing sources (public help-center articles).")
    internal_sources = DraftSourceSerializer(
        many=True, help_text="Sources for the agent only (internal articles, solved tickets): never for customers."
    )


@extend_schema_serializer(component_name="TicketAIDraftResult")
class DraftResultSerializer(_Output):
    ticket_id = serializers.IntegerField()
    draft = DraftSerializer(allow_null=True, help_text="Null when nothing matches well enough to draft from.")
    message = serializers.CharField(help_text="Why there is no draft; empty when there is one.")


def _source_data(source: Source, absolute: Absolute) -> dict[str, Any]:
    return {
        "number": source.number,
        "kind": source.kind,
        "id": source.object_id,
        "title": source.title,
        "url": absolute(source.url),
        "excerpt": " ".join(source.excerpt),
        "score": source.score,
        "internal": source.internal,
    }


def draft_result_data(ticket: Ticket, draft: Draft | None, *, message: str, absolute: Absolute) -> dict[str, Any]:
    data: dict[str, Any] = {"ticket_id": ticket.pk, "draft": None, "message": message if draft is None else ""}
    if draft is not None:
        data["draft"] = {
            "text": draft.text,
            "run_id": draft.meta.run_id,
            "confidence": draft.confidence,
            "customer_safe": draft.customer_safe,
            "problems": list(draft.problems),
            "provider": draft.meta.provider,
            "model": draft.meta.model,
            "sources": [_source_data(source, absolute) for source in draft.public_sources],
            "internal_sources": [_source_data(source, absolute) for source in draft.internal_sources],
        }
    return DraftResultSerializer(data).data


@extend_schema_serializer(component_name="TicketDraft")
class StoredDraftSerializer(DraftSerializer):
    id = serializers.IntegerField()
    ticket_id = serializers.IntegerField()
    requested_by = serializers.CharField(allow_null=True, help_text="The agent who asked for it.")
    created = serializers.DateTimeField()
    sent_message_id = serializers.IntegerField(
        allow_null=True, help_text="The public reply sent from this draft (its `ai_run_id`), if any."
    )


def stored_draft_data(draft: TicketDraft, absolute: Absolute) -> dict[str, Any]:
    def source(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "number": row["number"],
            "kind": row["kind"],
            "id": row["object_id"],
            "title": row["title"],
            "url": absolute(row["url"]),
            "excerpt": row["excerpt"],
            "score": row["score"],
            "internal": row["internal"],
        }

    requester = draft.requested_by
    return {
        "id": draft.pk,
        "ticket_id": draft.ticket_id,
        "text": draft.text,
        "run_id": draft.ai_run_id,
        "confidence": draft.confidence,
        "customer_safe": draft.customer_safe,
        "problems": draft.problems,
        "provider": draft.provider,
        "model": draft.model,
        "sources": [source(row) for row in draft.sources if not row["internal"]],
        "internal_sources": [source(row) for row in draft.sources if row["internal"]],
        "requested_by": (requester.get_full_name() or requester.get_username()) if requester else None,
        "created": draft.created,
        "sent_message_id": draft.sent_message_id,
    }


# --- The improved description --------------------------------------------------------------------------


@extend_schema_serializer(component_name="TicketImprovedDescription")
class ImprovedDescriptionSerializer(_Output):
    ticket_id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="Send it back when accepting: a newer ticket refuses (409).")
    description = serializers.CharField(help_text="The description as the requester typed it (never changed).")
    improved_description = serializers.CharField(help_text="The improvement an agent accepted; empty if none.")


def improved_description_data(ticket: Ticket) -> dict[str, Any]:
    data = {
        "ticket_id": ticket.pk,
        "version": ticket.version,
        "description": ticket.original_description,
        "improved_description": ticket.improved_description,
    }
    return ImprovedDescriptionSerializer(data).data


@extend_schema_serializer(component_name="TicketImprovedDescriptionAccepted")
class ImprovedDescriptionAcceptedSerializer(ImprovedDescriptionSerializer):
    outcome = serializers.CharField(help_text="accepted: stored as proposed; edited: your edit of it was stored.")


@extend_schema_serializer(component_name="TicketDescriptionProposal")
class ImprovementProposalSerializer(_Output):
    ticket_id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The ticket's version now: send it back with the accept.")
    run_id = serializers.IntegerField(allow_null=True, help_text="Send it back to accept this proposal.")
    original = serializers.CharField(help_text="The description it was made from.")
    text = serializers.CharField(help_text="The proposal: the same facts, restructured. Empty: nothing to improve.")
    sections = SectionsSerializer()
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Sections the description does not speak to (ask the requester)."
    )
    nothing_to_improve = serializers.BooleanField(
        help_text="True: restructuring would not make the description better; there is nothing to accept."
    )
    reason = serializers.CharField(help_text="Why there is nothing to improve; empty otherwise.")
    can_accept = serializers.BooleanField()
    provider = serializers.CharField(help_text="“local”: made offline.")
    model = serializers.CharField()


def _names(values: Iterable[Any]) -> list[str]:
    return [str(value) for value in values]


def improvement_proposal_data(ticket: Ticket, suggestion: Suggestion) -> dict[str, Any]:
    nothing, run_id = suggestion.nothing_to_improve, suggestion.meta.run_id
    data = {
        "ticket_id": ticket.pk,
        "version": ticket.version,
        "run_id": run_id,
        "original": suggestion.original,
        "text": "" if nothing else suggestion.text,
        "sections": {key: "" if nothing else _text(suggestion.sections.get(key)) for key in SECTION_KEYS},
        "missing": _names(suggestion.missing),
        "nothing_to_improve": nothing,
        "reason": suggestion.reason,
        "can_accept": not nothing and run_id is not None,
        "provider": suggestion.meta.provider,
        "model": suggestion.meta.model,
    }
    return ImprovementProposalSerializer(data).data


class ImprovedDescriptionAcceptSerializer(InputSerializer):
    run_id = serializers.IntegerField(help_text="The proposal's run_id.")
    text = serializers.CharField(
        max_length=MAX_BODY,
        error_messages={"blank": "The improved description cannot be empty."},
        help_text="The proposal's text as shown (accepted), or your edit of it (edited).",
    )
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="Optional: refuse (409) if the ticket changed since this version."
    )
