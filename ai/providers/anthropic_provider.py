"""Anthropic's Claude models through the official SDK (Messages API).

Settings: `api_key` (required), `base_url` (empty = api.anthropic.com; set it for a gateway), `model`.

- System messages are joined into the Messages API's `system` field; user/assistant turns go in order.
- Temperature is not sent: anthropic 2.12 (the SDK pinned here) no longer has a `temperature` parameter on
  `messages.create`, because the current Claude models do not take one.
- Structured output, chosen: Anthropic's native structured outputs (`output_config.format` with
  `type: "json_schema"`), which constrains decoding to the schema and returns the JSON as the text of the answer:
  nothing to unwrap, and it cannot drift into prose the way "please answer in JSON" instructions can. The older
  route, a forced tool call whose `input_schema` is the schema (`tool_choice={"type": "tool", ...}`), is kept for
  models or gateways without structured outputs: `extra["json_mode"] = "tool"`; the tool's input is returned as
  JSON text.
- Input tokens include prompt-cache writes and reads, so the ledger counts everything Anthropic billed as input.
- Anthropic has no embeddings API: `embed()` raises `Unsupported`.

No retries here (`max_retries=0`): the orchestrator retries, waits and falls back. Every request goes through the
egress guard (`core.egress.guarded_httpx_client`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import anthropic
from anthropic.types import Message as AnthropicMessage

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
    ProviderSettings,
    ProviderTimeout,
    ProviderUnavailable,
    Unsupported,
)

T = TypeVar("T")
VENDOR = "Anthropic"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
JSON_TOOL_NAME = "record_answer"


class AnthropicProvider:
    name: ClassVar[str] = "anthropic"
    DEFAULT_MODEL: ClassVar[str] = "claude-haiku-4-5"
    is_external: ClassVar[bool] = True

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.extra = dict(settings.extra or {})
        self.model = settings.model or self.DEFAULT_MODEL
        self.json_mode = str(self.extra.get("json_mode") or "native")
        self._client: anthropic.Anthropic | None = None

    # ---- Provider protocol -------------------------------------------------------------------------------------
    def generate(self, request: GenerateRequest) -> GenerateResponse:
        params, client = self._message_params(request), self.client
        message = self._call(lambda: client.messages.create(**params))
        if not isinstance(message, AnthropicMessage):
            raise bad_response(VENDOR, "the body was not a message.")
        finish_reason = normalize_finish_reason(message.stop_reason)
        text = self._text_of(message, forced_tool=request.json_schema is not None and self.json_mode == "tool")
        if not text:
            raise empty_text_error(VENDOR, finish_reason)
        usage = message.usage
        return GenerateResponse(
            text=text,
            model=message.model or self.model,
            input_tokens=_input_tokens(usage),
            output_tokens=(usage.output_tokens or 0) if usage else 0,
            finish_reason=finish_reason,
        )

    def embed(self, texts: list[str]) -> EmbedResponse:
        raise Unsupported("Anthropic offers no embeddings; route embeddings to the local provider, OpenAI or Google.")

    def test_connection(self) -> str:
        client = self.client
        self._call(lambda: client.models.retrieve(self.model))
        # Only our own words: a connection test never repeats what the endpoint said (ai.services).
        return f"Connected to Anthropic: model '{self.model}' is available."

    # ---- client and parameters ---------------------------------------------------------------------------------
    @property
    def client(self) -> anthropic.Anthropic:
        if self._client is None:
            if not self.settings.api_key:
                raise Misconfigured("Anthropic needs an API key.")
            if self.json_mode not in ("native", "tool"):
                raise Misconfigured(f"Unknown JSON mode {self.json_mode!r} for Anthropic: use 'native' or 'tool'.")
            self._client = anthropic.Anthropic(
                api_key=self.settings.api_key,
                base_url=self.settings.base_url or ANTHROPIC_BASE_URL,  # never ANTHROPIC_BASE_URL from the env
                timeout=self.settings.timeout_seconds,
                max_retries=0,
                http_client=guarded_httpx_client(timeout=self.settings.timeout_seconds),
            )
        return self._client

    def _message_params(self, request: GenerateRequest) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        turns = [{"role": m.role, "content": m.content} for m in request.messages if m.role != "system"]
        params: dict[str, Any] = {"model": self.model, "max_tokens": request.max_output_tokens, "messages": turns}
        if system:
            params["system"] = system
        if request.json_schema is not None:
            params.update(self._json_params(request.json_schema))
        return params

    def _json_params(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.json_mode == "tool":
            tool = {
                "name": JSON_TOOL_NAME,
                "description": "Record the answer. Its input is the complete answer as structured data.",
                "input_schema": schema,
            }
            return {"tools": [tool], "tool_choice": {"type": "tool", "name": JSON_TOOL_NAME}}
        return {"output_config": {"format": {"type": "json_schema", "schema": schema}}}

    @staticmethod
    def _text_of(message: AnthropicMessage, *, forced_tool: bool) -> str:
        blocks = message.content or []
        if forced_tool:
            for block in blocks:
                if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == JSON_TOOL_NAME:
                    return json.dumps(block.input)
            return ""
        return "".join(getattr(block, "text", "") or "" for block in blocks if getattr(block, "type", None) == "text")

    # ---- error mapping ---------------------------------------------------------------------------------------
    def _call(self, send: Callable[[], T]) -> T:
        """Run one SDK call; every failure leaves as a ProviderError with a readable, key-free message."""
        try:
            return send()
        except anthropic.APITimeoutError:
            raise ProviderTimeout(f"Anthropic did not answer within {self.settings.timeout_seconds:g} s.") from None
        except anthropic.APIConnectionError as error:
            blocked = egress_blocked(error)
            if blocked is not None:
                raise blocked from None
            reason = scrub(str(error.__cause__ or error), self.settings.api_key)
            raise ProviderUnavailable(f"Could not reach Anthropic at {self._host}: {reason}") from None
        except anthropic.APIStatusError as error:
            raise status_error(
                VENDOR,
                error.status_code,
                error_detail(error.body),
                retry_after=retry_after_seconds(error.response.headers),
                secrets=(self.settings.api_key,),
                request_id=getattr(error, "request_id", None),
            ) from None
        except EgressRefused as error:  # in case an SDK path lets the guard's refusal through unwrapped
            raise egress_blocked(error) from None
        except (anthropic.APIResponseValidationError, ValueError) as error:
            raise bad_response(VENDOR, f"the body could not be read ({type(error).__name__}).") from None

    @property
    def _host(self) -> str:
        return urlsplit(self.settings.base_url).netloc if self.settings.base_url else "api.anthropic.com"


def _input_tokens(usage: Any) -> int:
    if usage is None:
        return 0
    parts = (usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens)
    return sum(part or 0 for part in parts)
