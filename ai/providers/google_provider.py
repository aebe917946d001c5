"""Google's Gemini models (Gemini API / AI Studio key) through the official Google Gen AI SDK (google-genai).

Settings: `api_key` (required), `base_url` (empty = generativelanguage.googleapis.com), `model`;
`extra["embedding_model"]` (default gemini-embedding-001), `extra["embedding_dimensions"]`,
`extra["api_version"]` (google-genai uses "v1"), `extra["thinking_budget"]` (tokens the 2.5+ models may spend
thinking; 0 turns it off where the model allows), `extra["json_schema_mode"]`.

- google-genai 3.4 retries nothing unless `HttpRetryOptions` is given, and none is: the orchestrator retries.
- Structured output: `response_mime_type="application/json"` plus the schema. By default the schema goes as
  `response_json_schema`, which takes the standard JSON schema the orchestrator validates against as is;
  `extra["json_schema_mode"] = "openapi"` sends it as `response_schema` (Google's OpenAPI subset, converted by the
  SDK) for older models that only know that field.
- Gemini bills thinking tokens as output, so `output_tokens` = candidate tokens + thought tokens.
- A 429 from Gemini carries its wait as `google.rpc.RetryInfo.retryDelay` in the body (sometimes a
  `retry-after` header): both are read. A wrong key is a 400 with reason `API_KEY_INVALID`: mapped to
  `AuthenticationFailed`, not `Misconfigured`.
- The SDK client is kept on the provider: a client object that has been closed cannot be used again.
- Every request goes through the egress guard: the SDK gets guarded httpx clients (sync and async, so it never
  builds its own, nor an aiohttp session).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from core.egress import EgressRefused, guarded_async_httpx_client, guarded_httpx_client

from ._vendor_common import (
    bad_response,
    egress_blocked,
    empty_text_error,
    error_detail,
    normalize_finish_reason,
    retry_after_seconds,
    scrub,
    shorten,
    status_error,
)
from .base import (
    AuthenticationFailed,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    Misconfigured,
    ProviderSettings,
    ProviderTimeout,
    ProviderUnavailable,
)

T = TypeVar("T")
VENDOR = "Google Gemini"
GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/"
EMBEDDING_BATCH = 100  # the Gemini API's limit of requests per batchEmbedContents call
_ROLES = {"user": "user", "assistant": "model"}
_DELAY = re.compile(r"^\s*([\d.]+)s\s*$")


class GoogleProvider:
    name: ClassVar[str] = "google"
    DEFAULT_MODEL: ClassVar[str] = "gemini-2.5-flash"
    DEFAULT_EMBEDDING_MODEL: ClassVar[str] = "gemini-embedding-001"
    is_external: ClassVar[bool] = True

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.extra = dict(settings.extra or {})
        self.model = settings.model or self.DEFAULT_MODEL
        self.embedding_model = str(self.extra.get("embedding_model") or self.DEFAULT_EMBEDDING_MODEL)
        self._client: genai.Client | None = None

    # ---- Provider protocol -------------------------------------------------------------------------------------
    def generate(self, request: GenerateRequest) -> GenerateResponse:
        contents, config, client = self._contents(request), self._config(request), self.client
        response = self._call(
            lambda: client.models.generate_content(model=self.model, contents=contents, config=config)
        )
        if not isinstance(response, types.GenerateContentResponse):
            raise bad_response(VENDOR, "the body was not a generateContent answer.")
        if not response.candidates:
            raise bad_response(VENDOR, _no_candidates_reason(response))
        candidate = response.candidates[0]
        finish_reason = normalize_finish_reason(candidate.finish_reason)
        text = _candidate_text(candidate)
        if not text:
            raise empty_text_error(VENDOR, finish_reason)
        usage = response.usage_metadata
        return GenerateResponse(
            text=text,
            model=response.model_version or self.model,
            input_tokens=(usage.prompt_token_count or 0) if usage else 0,
            output_tokens=((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0,
            finish_reason=finish_reason,
        )

    def embed(self, texts: list[str]) -> EmbedResponse:
        client, config = self.client, self._embed_config()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBEDDING_BATCH):
            batch = texts[start : start + EMBEDDING_BATCH]
            response = self._call(
                lambda batch=batch: client.models.embed_content(
                    model=self.embedding_model, contents=batch, config=config
                )
            )
            vectors.extend(_vectors_of(response, len(batch)))
        return EmbedResponse(vectors=vectors, model=self.embedding_model, input_tokens=0)

    def test_connection(self) -> str:
        client = self.client
        self._call(lambda: client.models.get(model=self.model))
        # Only our own words: a connection test never repeats what the endpoint said (ai.services).
        return f"Connected to Google Gemini: model '{self.model}' is available."

    # ---- client and parameters ---------------------------------------------------------------------------------
    @property
    def client(self) -> genai.Client:
        if self._client is None:
            if not self.settings.api_key:
                raise Misconfigured("Google Gemini needs an API key.")
            options = types.HttpOptions(
                base_url=self.settings.base_url or GEMINI_BASE_URL,  # never GOOGLE_GEMINI_BASE_URL from the env
                api_version=self.extra.get("api_version") or None,
                timeout=max(1, int(self.settings.timeout_seconds * 1000)),  # milliseconds
                httpx_client=guarded_httpx_client(timeout=self.settings.timeout_seconds),
                httpx_async_client=guarded_async_httpx_client(timeout=self.settings.timeout_seconds),
            )
            self._client = genai.Client(api_key=self.settings.api_key, vertexai=False, http_options=options)
        return self._client

    @staticmethod
    def _contents(request: GenerateRequest) -> list[types.Content]:
        return [
            types.Content(role=_ROLES.get(message.role, "user"), parts=[types.Part(text=message.content)])
            for message in request.messages
            if message.role != "system"
        ]

    def _config(self, request: GenerateRequest) -> types.GenerateContentConfig:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        config: dict[str, Any] = {
            "temperature": request.temperature,
            "max_output_tokens": request.max_output_tokens,
            "system_instruction": system or None,
        }
        if request.json_schema is not None:
            config["response_mime_type"] = "application/json"
            field = "response_schema" if self.extra.get("json_schema_mode") == "openapi" else "response_json_schema"
            config[field] = request.json_schema
        if self.extra.get("thinking_budget") is not None:
            config["thinking_config"] = types.ThinkingConfig(thinking_budget=_whole(self.extra["thinking_budget"]))
        try:
            return types.GenerateContentConfig(**config)
        except ValueError as error:  # pydantic could not take the schema (OpenAPI mode is stricter)
            raise Misconfigured(f"Google Gemini cannot use this request's settings: {str(error)[:300]}") from None

    def _embed_config(self) -> types.EmbedContentConfig | None:
        dimensions = self.extra.get("embedding_dimensions")
        return types.EmbedContentConfig(output_dimensionality=_whole(dimensions)) if dimensions else None

    # ---- error mapping ---------------------------------------------------------------------------------------
    def _call(self, send: Callable[[], T]) -> T:
        """Run one SDK call; every failure leaves as a ProviderError with a readable, key-free message."""
        try:
            return send()
        except genai_errors.APIError as error:
            raise self._api_error(error) from None
        except EgressRefused as error:
            raise egress_blocked(error) from None
        except httpx2.TimeoutException:
            raise ProviderTimeout(f"Google Gemini did not answer within {self.settings.timeout_seconds:g} s.") from None
        except httpx2.TransportError as error:
            reason = scrub(str(error) or type(error).__name__, self.settings.api_key)
            raise ProviderUnavailable(f"Could not reach Google Gemini at {self._host}: {reason}") from None
        except ValueError as error:  # the body was not JSON, or not the shape the SDK expects
            raise bad_response(VENDOR, f"the body could not be read ({type(error).__name__}).") from None

    def _api_error(self, error: genai_errors.APIError) -> Exception:
        details = error.details if isinstance(error.details, dict) else {}
        # Gemini's errors are JSON {"error": {...}}; without that, the SDK put the raw body text in `message`.
        detail = error_detail(details) if isinstance(details.get("error"), dict) else ""
        if error.code == 400 and _error_reason(details) == "API_KEY_INVALID":
            return AuthenticationFailed(
                f"Google Gemini rejected the API key (HTTP 400): {shorten(scrub(detail, self.settings.api_key))}",
                status=400,
            )
        headers = getattr(getattr(error, "response", None), "headers", None)
        retry_after = retry_after_seconds(headers) if headers is not None else None
        if retry_after is None:
            retry_after = _retry_delay(details)
        return status_error(
            VENDOR, int(error.code or 0), detail, retry_after=retry_after, secrets=(self.settings.api_key,)
        )

    @property
    def _host(self) -> str:
        return (
            urlsplit(self.settings.base_url).netloc if self.settings.base_url else "generativelanguage.googleapis.com"
        )


def _candidate_text(candidate: types.Candidate) -> str:
    """The answer's text parts, without the model's thoughts."""
    parts = (candidate.content.parts if candidate.content else None) or []
    return "".join(part.text for part in parts if part.text and not part.thought)


def _no_candidates_reason(response: types.GenerateContentResponse) -> str:
    feedback = response.prompt_feedback
    reason = feedback.block_reason if feedback else None
    if reason:
        return f"Google blocked the prompt ({getattr(reason, 'value', reason)})."
    return "the answer had no candidates."


def _vectors_of(response: Any, expected: int) -> list[list[float]]:
    embeddings = getattr(response, "embeddings", None) or []
    vectors = [list(item.values) for item in embeddings if item.values]
    if len(vectors) != expected:
        raise bad_response(VENDOR, f"expected {expected} embeddings, got {len(vectors)} usable ones.")
    return vectors


def _error_details(details: dict[str, Any]) -> list[dict[str, Any]]:
    error = details.get("error") if isinstance(details.get("error"), dict) else details
    items = error.get("details") if isinstance(error, dict) else None
    return [item for item in items or [] if isinstance(item, dict)]


def _error_reason(details: dict[str, Any]) -> str | None:
    return next((item.get("reason") for item in _error_details(details) if item.get("reason")), None)


def _retry_delay(details: dict[str, Any]) -> float | None:
    """`google.rpc.RetryInfo.retryDelay` ("17s", "0.5s") in seconds."""
    for item in _error_details(details):
        if str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DELAY.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _whole(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Misconfigured(f"Expected a whole number in the Google Gemini settings, not {value!r}.") from None
