"""What each facade operation means to a provider: the local provider's own method, or a prompt, a JSON schema
and a parser for an external model. The orchestrator runs them all the same way.

Payloads are plain dicts (cacheable, stored on the run); the facade turns them into the contract dataclasses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import jsonschema
import numpy as np

from .cache import input_hash
from .contracts import AIInputError
from .providers.base import GenerateRequest, Message, Provider

DEFAULT_MAX_OUTPUT_TOKENS = 800
MAX_REWRITE_TOKENS = 4000
MAX_LABELS = 50
SENTIMENTS = ("positive", "neutral", "negative")
MODERATION_CATEGORIES = ("abuse", "threat", "self-harm", "sexual", "spam")
STYLES: dict[str, str] = {
    "ticket": (
        "Restructure the text into a clear support ticket with the sections summary, steps (to reproduce), expected, "
        "actual and environment. Put each fact in the section it belongs to and leave a section empty when the text "
        "says nothing about it. The text field holds the whole ticket, one heading per section."
    ),
    "concise": "Make it short and direct: keep every fact, drop filler and repetition.",
    "friendly": "Warm, plain and polite, like a helpful colleague.",
    "formal": "Formal and professional, without jargon.",
}
TICKET_SECTIONS = ("summary", "steps", "expected", "actual", "environment")


@dataclass(frozen=True)
class Job:
    """One facade call. `inputs` is the caller's (possibly customer-written) text, screened and redacted;
    `options` are the caller's settings (labels, style, schema…), never treated as customer text."""

    operation: str
    feature: str
    inputs: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    texts: tuple[str, ...] = ()  # embed only
    user: Any = None

    @property
    def text(self) -> str:
        return self.inputs.get("text", "")

    def cache_payload(self) -> dict[str, Any]:
        return {"op": self.operation, "inputs": self.inputs, "options": self.options, "texts": list(self.texts)}

    @cached_property
    def input_digest(self) -> str:
        """What identifies the request in the cache, computed once per call."""
        return input_hash(self.cache_payload())


class InvalidOutput(Exception):
    """The model's answer does not fit the operation (bad JSON, schema mismatch); the message says why."""


def parse_json(text: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object in a model's answer (code fences and surrounding prose tolerated), validated."""
    candidate = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", candidate, re.DOTALL)
    if fenced:
        candidate = fenced.group(1).strip()
    if not candidate.startswith(("{", "[")):
        start, end = candidate.find("{"), candidate.rfind("}")
        if start != -1 and end > start:
            candidate = candidate[start : end + 1]
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError as error:
        raise InvalidOutput(f"The reply is not valid JSON ({error.msg} at line {error.lineno}).") from None
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "the top level"
        raise InvalidOutput(f"The JSON does not match the schema at {where}: {error.message[:200]}") from None
    return data


def _clamp(value: Any, low: float, high: float, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return min(high, max(low, number))


class Operation:
    name: ClassVar[str]
    prompt_key: ClassVar[str]
    # Without a route of its own the operation runs on the local provider only: it is as good there, free,
    # and keeps the data at home (an admin can still route it to an external provider).
    local_first: ClassVar[bool] = False
    # External output an agent reads is checked by the local moderator before it is shown.
    moderate_output: ClassVar[bool] = False

    def prompt_context(self, job: Job) -> dict[str, str]:
        """Template values besides the caller's inputs."""
        return {}

    def schema(self, job: Job) -> dict[str, Any] | None:
        return None

    def max_output_tokens(self, job: Job) -> int:
        return int(job.options.get("max_output_tokens") or DEFAULT_MAX_OUTPUT_TOKENS)

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        raise NotImplementedError

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        raise NotImplementedError

    def shown_text(self, payload: Mapping[str, Any]) -> str:
        """What an agent reads (moderated, stored for feedback)."""
        return ""


class Generate(Operation):
    name = "generate"
    prompt_key = ""  # the feature's own prompt
    moderate_output = True

    def schema(self, job: Job) -> dict[str, Any] | None:
        return job.options.get("json_schema")

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        if not text.strip():
            raise InvalidOutput("The reply is empty.")
        return {"text": text.strip() if data is None else json.dumps(data, ensure_ascii=False), "data": data}

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        response = provider.generate(request)  # the local provider raises Unsupported: it writes no free text
        data = parse_json(response.text, job.options["json_schema"]) if job.options.get("json_schema") else None
        return self.from_model(response.text, data, job)

    def shown_text(self, payload: Mapping[str, Any]) -> str:
        return payload.get("text", "")


class Classify(Operation):
    name = "classify"
    prompt_key = "classify"

    def prompt_context(self, job: Job) -> dict[str, str]:
        labels = job.options["labels"]
        return {"labels": "\n".join(f"- {name}: {description}" for name, description in labels.items())}

    def schema(self, job: Job) -> dict[str, Any]:
        labels = list(job.options["labels"])
        return {
            "type": "object",
            "properties": {
                "label": {"type": "string", "enum": labels},
                "confidence": {"type": "number"},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            },
            "required": ["label"],
        }

    def max_output_tokens(self, job: Job) -> int:
        return 60 + 20 * len(job.options["labels"])

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        labels = job.options["labels"]
        confidence = _clamp(data.get("confidence"), 0.0, 1.0, 0.5)
        raw_scores = data.get("scores") if isinstance(data.get("scores"), dict) else {}
        scores = {label: _clamp(raw_scores.get(label), 0.0, 1.0, 0.0) for label in labels}
        scores[data["label"]] = max(scores[data["label"]], confidence)
        return {"label": data["label"], "confidence": confidence, "scores": scores}

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        label, confidence, scores = provider.classify(job.text, dict(job.options["labels"]))
        return {"label": label, "confidence": float(confidence), "scores": {k: float(v) for k, v in scores.items()}}


class Summarize(Operation):
    name = "summarize"
    prompt_key = "summarize"
    moderate_output = True

    def prompt_context(self, job: Job) -> dict[str, str]:
        return {"max_sentences": str(job.options.get("max_sentences", 3))}

    def schema(self, job: Job) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "summary": {"type": "string", "minLength": 1},
                "keywords": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["summary"],
        }

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        keywords = [str(word).strip() for word in data.get("keywords", []) if str(word).strip()][:10]
        return {"text": data["summary"].strip(), "keywords": keywords}

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        summary, keywords = provider.summarize(job.text, max_sentences=int(job.options.get("max_sentences", 3)))
        return {"text": summary, "keywords": list(keywords)}

    def shown_text(self, payload: Mapping[str, Any]) -> str:
        return payload.get("text", "")


class Rewrite(Operation):
    name = "rewrite"
    prompt_key = "rewrite"
    moderate_output = True

    def prompt_context(self, job: Job) -> dict[str, str]:
        style = job.options["style"]
        return {"style": style, "style_instructions": STYLES[style]}

    def schema(self, job: Job) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "text": {"type": "string", "minLength": 1},
                "sections": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["text"],
        }

    def max_output_tokens(self, job: Job) -> int:
        # Room for the rewritten text twice (whole and in sections) plus JSON, at about a token per 4 characters;
        # capped below the smallest output limit of current chat models.
        return min(MAX_REWRITE_TOKENS, max(DEFAULT_MAX_OUTPUT_TOKENS, len(job.text) // 2 + 200))

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        sections = {str(k): str(v).strip() for k, v in (data.get("sections") or {}).items()}
        if job.options["style"] == "ticket":
            sections = {name: sections.get(name, "") for name in TICKET_SECTIONS}
        return {"text": data["text"].strip(), "sections": sections}

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        text, sections = provider.rewrite(job.text, style=job.options["style"])
        return {"text": text, "sections": dict(sections)}

    def shown_text(self, payload: Mapping[str, Any]) -> str:
        return payload.get("text", "")


class Sentiment(Operation):
    name = "sentiment"
    prompt_key = "sentiment"
    local_first = True

    def schema(self, job: Job) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"label": {"type": "string", "enum": list(SENTIMENTS)}, "score": {"type": "number"}},
            "required": ["label"],
        }

    def max_output_tokens(self, job: Job) -> int:
        return 40

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        return {"label": data["label"], "score": _clamp(data.get("score"), -1.0, 1.0, 0.0)}

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        label, score = provider.sentiment(job.text)
        return {"label": label, "score": float(score)}


class DetectLanguage(Operation):
    name = "language"
    prompt_key = "language"
    local_first = True

    def schema(self, job: Job) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[a-zA-Z]{2}$"},
                "name": {"type": "string"},
                "confidence": {"type": "number"},
            },
            "required": ["code"],
        }

    def max_output_tokens(self, job: Job) -> int:
        return 40

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        code = data["code"].lower()
        return {"code": code, "name": data.get("name") or code, "confidence": _clamp(data.get("confidence"), 0, 1, 0.5)}

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        code, name, confidence = provider.language(job.text)
        return {"code": code, "name": name, "confidence": float(confidence)}


class Moderate(Operation):
    name = "moderate"
    prompt_key = "moderate"
    local_first = True

    def prompt_context(self, job: Job) -> dict[str, str]:
        return {"categories": ", ".join(MODERATION_CATEGORIES)}

    def schema(self, job: Job) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "flagged": {"type": "boolean"},
                "categories": {"type": "object", "additionalProperties": {"type": "number"}},
            },
            "required": ["flagged"],
        }

    def max_output_tokens(self, job: Job) -> int:
        return 120

    def from_model(self, text: str, data: dict[str, Any] | None, job: Job) -> dict[str, Any]:
        categories = {str(k): _clamp(v, 0, 1, 0.0) for k, v in (data.get("categories") or {}).items()}
        return {"flagged": bool(data["flagged"]), "categories": categories}

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        flagged, categories = provider.moderate(job.text)
        return {"flagged": bool(flagged), "categories": {k: float(v) for k, v in categories.items()}}


class Embed(Operation):
    """External providers embed with their embeddings endpoint (no prompt). Vectors from different models are not
    comparable: stored embeddings (ai.models.Embedding) always use the local model."""

    name = "embed"
    prompt_key = ""
    local_first = True

    def run_local(self, provider: Provider, job: Job, request: GenerateRequest | None) -> dict[str, Any]:
        response = provider.embed(list(job.texts))
        return self.from_vectors(response.vectors, response.model)

    @staticmethod
    def from_vectors(vectors: Any, model: str) -> dict[str, Any]:
        array = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        return {"vectors": array / np.where(norms == 0, 1, norms), "model": model}


OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for operation in (
        Generate(),
        Classify(),
        Summarize(),
        Rewrite(),
        Sentiment(),
        DetectLanguage(),
        Moderate(),
        Embed(),
    )
}


def messages_for(system: str, user: str) -> tuple[Message, ...]:
    return tuple(Message(role, content) for role, content in (("system", system), ("user", user)) if content)


def normalise_labels(labels: Any) -> dict[str, str]:
    """A list of names or a mapping name → description, as the mapping (descriptions default to the name)."""
    if isinstance(labels, Mapping):
        pairs = [(str(name).strip(), str(description or name).strip()) for name, description in labels.items()]
    else:
        pairs = [(str(name).strip(), str(name).strip()) for name in labels or ()]
    cleaned = {name: description for name, description in pairs if name}
    if len(cleaned) < 2:
        raise AIInputError("Give at least two labels to choose from.")
    if len(cleaned) > MAX_LABELS:
        raise AIInputError(f"At most {MAX_LABELS} labels can be used at once.")
    return cleaned


def check_style(style: str) -> str:
    if style not in STYLES:
        raise AIInputError(f"Unknown style {style!r}: use one of {', '.join(STYLES)}.")
    return style
