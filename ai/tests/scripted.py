"""In-process providers for orchestration tests: a scripted external provider and a tiny stand-in for local.

Fixtures (import the `*_fixture` names into a test module; the fixture itself is called without the suffix):
`scripted` (and `backup`) register a fresh `ScriptedProvider` class under that registry name for one test and
return it: push replies or errors with `.script(...)`, read what it was sent in `.requests`. Unscripted it
echoes, or answers the requested JSON schema with the smallest valid document.

`local_stub` replaces the local provider with `StubLocal` (deterministic, no models), for tests of orchestration
logic; tests of the real local provider's part use it directly through the facade.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest

from ai import registry
from ai.orchestrator import default as default_orchestrator
from ai.providers.base import EmbedResponse, GenerateRequest, GenerateResponse, ProviderSettings, Unsupported
from ai.resilience import CircuitBreaker


def minimal_json(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {name: minimal_json(schema["properties"][name]) for name in schema.get("required", [])}
    return {"string": "x", "number": 0.5, "integer": 1, "boolean": False, "array": []}.get(kind)


class ScriptedProvider:
    name: ClassVar[str] = "scripted"
    DEFAULT_MODEL: ClassVar[str] = "gpt-4o-mini"  # a priced model, so costs are non-zero
    is_external: ClassVar[bool] = True
    queue: ClassVar[deque]
    requests: ClassVar[list[GenerateRequest]]
    embedded: ClassVar[list[list[str]]]
    settings_seen: ClassVar[list[ProviderSettings]]
    usage: ClassVar[tuple[int, int]] = (1000, 200)

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        type(self).settings_seen.append(settings)

    @classmethod
    def script(cls, *items: Any) -> type[ScriptedProvider]:
        """Each item answers one call: a str (reply text), an exception (raised), or a callable(request)."""
        cls.queue.extend(items)
        return cls

    @classmethod
    def sent_text(cls) -> str:
        return "\n".join(message.content for request in cls.requests for message in request.messages)

    def _next(self, request: Any) -> Any:
        if not self.queue:
            return None
        item = self.queue.popleft()
        if isinstance(item, BaseException):
            raise item
        return item(request) if callable(item) else item

    def generate(self, request: GenerateRequest) -> GenerateResponse:
        type(self).requests.append(request)
        reply = self._next(request)
        if reply is None:
            if request.json_schema is not None:
                import json

                reply = json.dumps(minimal_json(request.json_schema))
            else:
                reply = "Echo: " + request.messages[-1].content
        model = self.settings.model or self.DEFAULT_MODEL
        return GenerateResponse(text=reply, model=model, input_tokens=self.usage[0], output_tokens=self.usage[1])

    def embed(self, texts: list[str]) -> EmbedResponse:
        type(self).embedded.append(list(texts))
        self._next(texts)
        return EmbedResponse(vectors=[[1.0, 0.0, 0.0] for _ in texts], model="scripted-embed", input_tokens=10)

    def test_connection(self) -> str:
        reply = self._next(None)
        return reply or f"Connected to {self.name}: model '{self.settings.model or self.DEFAULT_MODEL}' is available."


def _fresh(name: str) -> type[ScriptedProvider]:
    return type(
        f"Scripted_{name}",
        (ScriptedProvider,),
        {"name": name, "queue": deque(), "requests": [], "embedded": [], "settings_seen": []},
    )


@pytest.fixture(name="scripted")
def scripted_fixture() -> Iterator[type[ScriptedProvider]]:
    provider = _fresh("scripted")
    with registry.registered("scripted", provider, label="Scripted"):
        yield provider


@pytest.fixture(name="backup")
def backup_fixture() -> Iterator[type[ScriptedProvider]]:
    provider = _fresh("backup")
    with registry.registered("backup", provider, label="Backup"):
        yield provider


class StubLocal:
    """Answers every local-native operation predictably; like the real one, it writes no free text."""

    name: ClassVar[str] = "local"
    DEFAULT_MODEL: ClassVar[str] = "switchboard-local-1"
    is_external: ClassVar[bool] = False
    calls: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        pass

    def _called(self, operation: str, argument: Any) -> None:
        type(self).calls.append((operation, argument))

    def generate(self, request: GenerateRequest) -> GenerateResponse:
        self._called("generate", request)
        raise Unsupported("The local provider cannot write free text.")

    def embed(self, texts: list[str]) -> EmbedResponse:
        self._called("embed", texts)
        return EmbedResponse(vectors=[[0.0, 1.0, 0.0] for _ in texts], model="all-MiniLM-L6-v2")

    def classify(self, text: str, labels: dict[str, str]) -> tuple[str, float, dict[str, float]]:
        self._called("classify", text)
        first = next(iter(labels))
        return first, 0.6, {name: (0.6 if name == first else 0.1) for name in labels}

    def sentiment(self, text: str) -> tuple[str, float]:
        self._called("sentiment", text)
        return ("negative", -0.5) if "angry" in text else ("neutral", 0.0)

    def language(self, text: str) -> tuple[str, str, float]:
        self._called("language", text)
        return "en", "English", 0.9

    def summarize(self, text: str, max_sentences: int = 3) -> tuple[str, tuple[str, ...]]:
        self._called("summarize", text)
        return text.split(".")[0].strip() + ".", ("local",)

    def moderate(self, text: str) -> tuple[bool, dict[str, float]]:
        self._called("moderate", text)
        flagged = "idiot" in text.lower()
        return flagged, {"abuse": 0.9 if flagged else 0.0, "threat": 0.0}

    def rewrite(self, text: str, *, style: str) -> tuple[str, dict[str, str]]:
        self._called("rewrite", text)
        return f"[{style}] {text}", ({"summary": text} if style == "ticket" else {})

    def test_connection(self) -> str:
        return "Local models loaded."


@pytest.fixture(name="local_stub")
def local_stub_fixture() -> Iterator[type[StubLocal]]:
    stub = type("StubLocalForTest", (StubLocal,), {"calls": []})
    with registry.registered("local", stub, is_external=False):
        yield stub


@pytest.fixture(name="sleeps")
def sleeps_fixture(monkeypatch) -> list[float]:
    """The orchestrator's waits, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(default_orchestrator, "sleep", waits.append)
    return waits


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch) -> FakeClock:
    """The circuit breaker's clock, moved by hand."""
    fake = FakeClock()
    monkeypatch.setattr(default_orchestrator, "breaker", CircuitBreaker(threshold=3, cooldown=60, clock=fake))
    return fake


RequestCheck = Callable[[GenerateRequest], str]
