"""What `ai.facade` returns: frozen dataclasses carrying the output and how it was produced.

Every result has `meta` (run id in the ledger, provider, model, prompt version, cached flag, latency), so a
caller can show "drafted offline by the local model" and record the agent's feedback against the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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


@dataclass(frozen=True)
class Summary:
    text: str
    keywords: tuple[str, ...]
    meta: RunMeta


@dataclass(frozen=True)
class Rewrite:
    text: str
    meta: RunMeta
    sections: dict[str, str] = field(default_factory=dict)  # e.g. summary / steps / expected / actual / environment


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
