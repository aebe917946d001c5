"""OpenAI, Azure OpenAI and any OpenAI-compatible endpoint (Ollama, vLLM, LiteLLM…), through the official SDK.

Settings:
- `api_key`; `base_url` empty = api.openai.com. With another `base_url` the endpoint is "OpenAI-compatible" (a
  gateway, or a local server such as Ollama, which ignores keys): the key becomes optional.
- `extra["azure"] = True` switches to `AzureOpenAI`: `base_url` is the resource endpoint
  (`https://<resource>.openai.azure.com`), `extra["api_version"]` is required, and `model` is the *deployment* name.
- `extra["embedding_model"]` (default text-embedding-3-small; a deployment name on Azure),
  `extra["embedding_dimensions"]` (shorter vectors from text-embedding-3-*), `extra["max_tokens_param"]`
  ("max_tokens" | "max_completion_tokens") and `extra["send_temperature"]` override the defaults below;
  `extra["organization"]` / `extra["project"]` set OpenAI's organization and project headers.

Reasoning models (o-series, the gpt-5 family except *-chat models) reject `max_tokens` and any temperature but the
default. OpenAI and Azure get `max_completion_tokens`, which every one of their models takes; other endpoints get
`max_tokens` (what Ollama, vLLM and gateways understand) unless the model is a reasoning one. Temperature is only
sent to models that take it. `extra["max_tokens_param"]` / `extra["send_temperature"]` override both guesses.

Structured output uses `response_format={"type": "json_schema", ...}`, non-strict by default: strict mode rejects
any schema that does not list every property as required and close every object (`extra["strict_json"] = True`
turns it on); the orchestrator validates the JSON either way.

No retries here (`max_retries=0`): the orchestrator retries, waits and falls back. Every request goes through the
egress guard (`core.egress.guarded_httpx_client`): a base URL pointing inside the server's network is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import openai
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion

from core.egress import EgressRefused, guarded_httpx_client

from ._vendor_common import (
    bad_response,
    egress_blocked,
    empty_text_error,
    error_detail,
    normalize_finish_reason,
    retry_after_seconds,
    scrub,
    status_error,
)
from .base import (
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    Misconfigured,
    ModelNotOffered,
    ProviderSettings,
    ProviderTimeout,
    ProviderUnavailable,
)

T = TypeVar("T")
OPENAI_BASE_URL = "https://api.openai.com/v1"
EMBEDDING_BATCH = 2048  # OpenAI's limit of inputs per embeddings request
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)(?!.*chat)")


class OpenAIProvider:
    name: ClassVar[str] = "openai"
    DEFAULT_MODEL: ClassVar[str] = "gpt-5.4-mini"
    DEFAULT_EMBEDDING_MODEL: ClassVar[str] = "text-embedding-3-small"
    is_external: ClassVar[bool] = True

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.extra = dict(settings.extra or {})
        self.is_azure = bool(self.extra.get("azure"))
        self.is_compatible = bool(settings.base_url) and not self.is_azure and not _is_openai_host(settings.base_url)
        self.model = settings.model or self.DEFAULT_MODEL
        self.embedding_model = str(self.extra.get("embedding_model") or self.DEFAULT_EMBEDDING_MODEL)
        self.vendor = _vendor_label(self.is_azure, self.is_compatible, settings.base_url)
        self._client: openai.OpenAI | None = None

    # ---- Provider protocol -------------------------------------------------------------------------------------
    def generate(self, request: GenerateRequest) -> GenerateResponse:
        params, client = self._chat_params(request), self.client
        completion = self._call(lambda: client.chat.completions.create(**params))
        if not isinstance(completion, ChatCompletion) or not completion.choices:
            raise bad_response(self.vendor, "the answer had no choices.")
        choice = completion.choices[0]
        finish_reason = normalize_finish_reason(choice.finish_reason)
        message = choice.message
        if message is not None and message.refusal:
            raise bad_response(self.vendor, f"the model declined to answer: {message.refusal[:200]}")
        if message is None or not message.content:
            raise empty_text_error(self.vendor, finish_reason)
        usage = completion.usage
        return GenerateResponse(
            text=message.content,
            model=completion.model or self.model,
            input_tokens=(usage.prompt_tokens or 0) if usage else 0,
            output_tokens=(usage.completion_tokens or 0) if usage else 0,
            finish_reason=finish_reason,
        )

    def embed(self, texts: list[str]) -> EmbedResponse:
        vectors: list[list[float]] = []
        tokens, model, client = 0, self.embedding_model, self.client
        for start in range(0, len(texts), EMBEDDING_BATCH):
            params = self._embed_params(texts[start : start + EMBEDDING_BATCH])
            response = self._call(lambda params=params: client.embeddings.create(**params))
            vectors.extend(self._vectors_of(response, len(params["input"])))
            tokens += (response.usage.prompt_tokens or 0) if response.usage else 0
            model = response.model or model
        return EmbedResponse(vectors=vectors, model=model, input_tokens=tokens)

    def test_connection(self) -> str:
        client = self.client
        if self.is_azure:
            # Azure deployments cannot be listed with the data-plane key: prove the deployment with a tiny answer.
            params = self._probe_params()
            self._call(lambda: client.chat.completions.create(**params))
            return f"Connected to Azure OpenAI: deployment '{self.model}' answered."
        models = self._call(lambda: [model.id for model in client.models.list()])
        if not _model_listed(self.model, models):
            raise ModelNotOffered(
                f"Connected to {self.vendor}, but it does not offer the model '{self.model}'.", reached=True
            )
        return f"Connected to {self.vendor}: model '{self.model}' is available."

    # ---- client and parameters ---------------------------------------------------------------------------------
    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self) -> openai.OpenAI:
        try:
            return self._new_client()
        except (openai.OpenAIError, ValueError) as error:  # the SDK's own checks of the configuration
            raise Misconfigured(
                f"{self.vendor} is not configured correctly: {scrub(str(error), self.settings.api_key)}"
            ) from None

    def _new_client(self) -> openai.OpenAI:
        settings = self.settings
        common: dict[str, Any] = {"timeout": settings.timeout_seconds, "max_retries": 0}
        if self.is_azure:
            api_version = self.extra.get("api_version")
            if not settings.base_url or not api_version:
                raise Misconfigured("Azure OpenAI needs the resource endpoint as base URL and an API version.")
            if not settings.api_key:
                raise Misconfigured("Azure OpenAI needs an API key.")
            return openai.AzureOpenAI(
                api_key=settings.api_key,
                azure_endpoint=settings.base_url,
                api_version=str(api_version),
                http_client=guarded_httpx_client(timeout=settings.timeout_seconds),
                **common,
            )
        if not settings.api_key and not self.is_compatible:
            raise Misconfigured("OpenAI needs an API key.")
        # Local OpenAI-compatible servers take no key, but the SDK insists on one. The default base URL is
        # spelled out so that an OPENAI_BASE_URL in the server's environment never redirects a workspace's calls.
        return openai.OpenAI(
            api_key=settings.api_key or "not-needed",
            base_url=settings.base_url or OPENAI_BASE_URL,
            organization=self.extra.get("organization") or None,
            project=self.extra.get("project") or None,
            http_client=guarded_httpx_client(timeout=settings.timeout_seconds),
            **common,
        )

    def _chat_params(self, request: GenerateRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": message.role, "content": message.content} for message in request.messages],
            self._max_tokens_param: request.max_output_tokens,
        }
        if self._sends_temperature:
            params["temperature"] = request.temperature
        if request.json_schema is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(request.json_schema),
                    "schema": request.json_schema,
                    "strict": bool(self.extra.get("strict_json", False)),
                },
            }
        return params

    def _probe_params(self) -> dict[str, Any]:
        messages = [{"role": "user", "content": "Reply with OK."}]
        return {"model": self.model, "messages": messages, self._max_tokens_param: 16}

    def _embed_params(self, batch: list[str]) -> dict[str, Any]:
        # Floats, not the SDK's default base64: every OpenAI-compatible server understands them.
        params: dict[str, Any] = {"model": self.embedding_model, "input": batch, "encoding_format": "float"}
        if self.extra.get("embedding_dimensions"):
            params["dimensions"] = _positive_int(self.extra["embedding_dimensions"], "embedding dimensions")
        return params

    @property
    def _max_tokens_param(self) -> str:
        modern = not self.is_compatible or _REASONING_MODEL.match(self.model)
        default = "max_completion_tokens" if modern else "max_tokens"
        return str(self.extra.get("max_tokens_param") or default)

    @property
    def _sends_temperature(self) -> bool:
        if "send_temperature" in self.extra:
            return bool(self.extra["send_temperature"])
        return not _REASONING_MODEL.match(self.model)

    def _vectors_of(self, response: Any, expected: int) -> list[list[float]]:
        if not isinstance(response, CreateEmbeddingResponse) or not response.data:
            raise bad_response(self.vendor, "the embeddings answer held no data.")
        data = sorted(response.data, key=lambda item: item.index)
        vectors = [list(item.embedding) for item in data if isinstance(item.embedding, list)]
        if len(vectors) != expected or any(not vector for vector in vectors):
            raise bad_response(self.vendor, f"expected {expected} embeddings, got {len(vectors)} usable ones.")
        return vectors

    # ---- error mapping ---------------------------------------------------------------------------------------
    def _call(self, send: Callable[[], T]) -> T:
        """Run one SDK call; every failure leaves as a ProviderError with a readable, key-free message."""
        try:
            return send()
        except openai.APITimeoutError:
            raise ProviderTimeout(f"{self.vendor} did not answer within {self.settings.timeout_seconds:g} s.") from None
        except openai.APIConnectionError as error:
            blocked = egress_blocked(error)
            if blocked is not None:
                raise blocked from None
            reason = scrub(str(error.__cause__ or error), self.settings.api_key)
            raise ProviderUnavailable(f"Could not reach {self.vendor} at {self._host}: {reason}") from None
        except openai.APIStatusError as error:
            raise status_error(
                self.vendor,
                error.status_code,
                error_detail(error.body),
                retry_after=retry_after_seconds(error.response.headers),
                secrets=(self.settings.api_key,),
                request_id=error.request_id,
            ) from None
        except EgressRefused as error:  # in case an SDK path lets the guard's refusal through unwrapped
            raise egress_blocked(error) from None
        except (openai.APIResponseValidationError, ValueError) as error:
            # ValueError: the body was not JSON (json.JSONDecodeError) or did not fit the SDK's models.
            raise bad_response(self.vendor, f"the body could not be read ({type(error).__name__}).") from None

    @property
    def _host(self) -> str:
        return urlsplit(self.settings.base_url).netloc if self.settings.base_url else "api.openai.com"


def _is_openai_host(base_url: str) -> bool:
    return urlsplit(base_url).hostname == "api.openai.com"


def _vendor_label(is_azure: bool, is_compatible: bool, base_url: str) -> str:
    if is_azure:
        return "Azure OpenAI"
    if is_compatible:
        return f"the OpenAI-compatible endpoint {urlsplit(base_url).netloc or base_url}"
    return "OpenAI"


def _positive_int(value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise Misconfigured(f"The {what} must be a positive whole number, not {value!r}.")
    return number


def _schema_name(schema: dict[str, Any]) -> str:
    """OpenAI requires a name of at most 64 letters, digits, `_` or `-`."""
    title = str(schema.get("title") or "response")
    return re.sub(r"[^A-Za-z0-9_-]", "_", title)[:64] or "response"


def _model_listed(model: str, listed: list[str]) -> bool:
    """Ollama lists "llama3.2:latest" for a model configured as "llama3.2"."""
    return model in listed or f"{model}:latest" in listed
