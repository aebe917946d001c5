"""The one interface every AI vendor module implements, and the errors they raise.

A provider knows how to talk to one vendor and nothing else: no retries, caching, prompts, redaction,
budgets or ledger (the orchestrator in `ai.orchestrator` does those, the same way for everyone). It turns
the vendor SDK's exceptions into the `ProviderError` subclasses below so the orchestrator can decide
whether to retry, wait, or fall back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class ProviderSettings:
    """How to reach one vendor for one workspace. `api_key` is decrypted only for the call."""

    api_key: str = ""
    base_url: str = ""  # empty: the vendor's default endpoint
    model: str = ""  # empty: the provider's DEFAULT_MODEL
    timeout_seconds: float = 30.0
    extra: dict[str, Any] = field(default_factory=dict)  # vendor specifics, e.g. Azure api_version, Graph tenant id


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class GenerateRequest:
    messages: tuple[Message, ...]
    max_output_tokens: int = 800
    temperature: float = 0.2
    json_schema: dict[str, Any] | None = None  # ask for JSON matching this schema (validated by the caller)


@dataclass(frozen=True)
class GenerateResponse:
    text: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str = ""


@dataclass(frozen=True)
class EmbedResponse:
    vectors: list[list[float]]
    model: str
    input_tokens: int = 0


class ProviderError(Exception):
    """Base of every error a provider raises. `retryable` tells the orchestrator whether trying again can help.

    `status` is the HTTP status the vendor answered with; `reached` says whether anything answered at all (a
    connection test reports only that category, never what the endpoint said: it may be anybody's server).
    """

    retryable: ClassVar[bool] = False
    answered: ClassVar[bool] = False  # this kind of error means the endpoint answered, whatever `status` says

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = None, reached: bool | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.reached = (self.answered or status is not None) if reached is None else reached


class RateLimited(ProviderError):
    retryable = True
    answered = True


class ProviderTimeout(ProviderError):
    retryable = True


class ProviderUnavailable(ProviderError):
    """5xx, connection refused, overloaded."""

    retryable = True


class BadResponse(ProviderError):
    """The vendor answered, but not with something usable (malformed body, empty choice)."""

    retryable = True
    answered = True


class AuthenticationFailed(ProviderError):
    """Wrong or revoked key: retrying will not help."""

    answered = True


class Misconfigured(ProviderError):
    """Missing key, unknown model, bad base URL: a readable message for the settings page and the run log."""


class ModelNotOffered(Misconfigured):
    """The vendor answered, but does not offer the configured model."""

    answered = True


class EgressBlocked(ProviderError):
    """The egress guard (core.egress) refused the destination before connecting: only a settings change helps."""


class Unsupported(ProviderError):
    """The provider cannot do this operation (e.g. embeddings on a chat-only vendor)."""


class Provider(Protocol):
    """One vendor. Construct with settings; every call is synchronous and honours `settings.timeout_seconds`."""

    name: ClassVar[str]  # "local", "openai", "anthropic", "google", "copilot"
    DEFAULT_MODEL: ClassVar[str]
    is_external: ClassVar[bool]  # False only for "local": nothing leaves the machine

    def __init__(self, settings: ProviderSettings) -> None: ...

    def generate(self, request: GenerateRequest) -> GenerateResponse: ...

    def embed(self, texts: list[str]) -> EmbedResponse: ...

    def test_connection(self) -> str:
        """A short human-readable confirmation ("Connected to gpt-4o-mini"); raises ProviderError otherwise."""
        ...
