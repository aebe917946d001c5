"""What one call produces on its way: the providers of its chain, their usage, answers, and why each was
skipped or failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import registry
from ..contracts import RunMeta
from ..providers.base import GenerateResponse, ProviderError
from ..selectors import ProviderEntry

# --- Skip reasons, as stored in the run's flags and shown in the run log ------------------------

POLICY = "external providers are turned off for this workspace"
INJECTION = "the input looks like a prompt-injection attempt: kept on the local provider"
BUDGET = "this month's budget is spent"
CIRCUIT_OPEN = "paused after repeated failures (circuit breaker open)"


@dataclass(frozen=True)
class Link:
    """One provider in a chain: a workspace configuration, or the built-in local provider (config None)."""

    name: str
    config: ProviderEntry | None = None

    @property
    def external(self) -> bool:
        return registry.provider_info(self.name).is_external

    @property
    def breaker_key(self) -> str:
        return f"config-{self.config.id}" if self.config else self.name

    @property
    def model(self) -> str:
        configured = self.config.model if self.config else ""
        if configured:
            return configured
        try:
            return getattr(registry.provider_class(self.name), "DEFAULT_MODEL", "") or self.name
        except ProviderError:
            return self.name  # not installed: the call itself will say so


@dataclass
class Usage:
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, response: GenerateResponse) -> None:
        self.model = response.model or self.model
        self.input_tokens += response.input_tokens or 0
        self.output_tokens += response.output_tokens or 0


class OutputRejected(Exception):
    """The provider answered (and may have billed for it), but the answer cannot be used."""

    def __init__(self, message: str, *, usage: Usage, blocked: bool = False) -> None:
        super().__init__(message)
        self.usage = usage
        self.blocked = blocked


@dataclass(frozen=True)
class Answer:
    payload: dict[str, Any]
    usage: Usage
    redacted_count: int = 0


@dataclass(frozen=True)
class Outcome:
    payload: dict[str, Any]
    meta: RunMeta


@dataclass
class Attempts:
    """What happened to each provider of one call, for the ledger and the final error message."""

    fallback_from: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    first_error: tuple[str, str] | None = None
    blocked: bool = False
    retry_after: float | None = None  # the shortest wait a rate-limiting provider asked for
    redacted: int = 0

    def skip(self, link: Link, reason: str, *, counts_as_fallback: bool = True) -> None:
        if counts_as_fallback:
            self.fallback_from.append(link.name)
        self.details.append({"provider": link.name, "config": _config_label(link), "skipped": reason})
        self.blocked = self.blocked or reason == INJECTION
        if self.first_error is None and counts_as_fallback:
            self.first_error = ("Skipped", f"{_config_label(link)}: {reason}")

    def fail(
        self, link: Link, error_class: str, message: str, attempts: int, *, retry_after: float | None = None
    ) -> None:
        if retry_after is not None:
            self.retry_after = retry_after if self.retry_after is None else min(self.retry_after, retry_after)
        self.fallback_from.append(link.name)
        self.details.append(
            {"provider": link.name, "config": _config_label(link), "error": error_class, "message": message}
            | ({"attempts": attempts} if attempts > 1 else {})
        )
        if self.first_error is None:
            self.first_error = (error_class, message)

    @property
    def budget_spent(self) -> bool:
        return any(detail.get("skipped") == BUDGET for detail in self.details)

    def reasons(self) -> tuple[str, ...]:
        return tuple(
            f"{detail['config']}: {detail.get('skipped') or detail.get('message') or detail.get('error')}"
            for detail in self.details
        )


def _config_label(link: Link) -> str:
    return link.config.label if link.config else link.name
