"""A fake Anthropic API: `POST /v1/messages`, `GET /v1/models`, `GET /v1/models/{id}` in Anthropic's wire format.

The key is accepted as `x-api-key` or `Authorization: Bearer` (anthropic 2.12 sends the latter). Default answers:
a text block echoing the last user message; with `output_config.format` (structured outputs) a JSON text matching
the schema; with a forced tool (`tool_choice: {"type": "tool"}`) a `tool_use` block whose input matches the tool's
input schema. Token counts are word counts; a model not in `fake.models` gets a 404.
Errors use `{"type": "error", "error": {"type": ..., "message": ...}}` and every answer carries a `request-id`.
"""

from __future__ import annotations

import json
from typing import Any

from ai.providers.base import ProviderSettings

from .server import FakeServer, RecordedRequest, Reply, count_tokens, example_from_schema

ANTHROPIC_TEST_KEY = "sk-ant-test-0123456789abcdefghijklmnop"
MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class AnthropicFake(FakeServer):
    vendor = "anthropic"
    secret_headers = ("authorization", "x-api-key")
    always_headers = {"request-id": "req_fake01"}

    def __init__(self, *, api_key: str = ANTHROPIC_TEST_KEY, models: tuple[str, ...] = MODELS) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = list(models)

    @property
    def base_url(self) -> str:
        return self.origin

    def provider_settings(self, **overrides: Any) -> ProviderSettings:
        fields = {"api_key": self.api_key, "base_url": self.base_url, "timeout_seconds": 2.0}
        return ProviderSettings(**(fields | overrides))

    def enqueue_reply(
        self,
        text: str,
        *,
        stop_reason: str = "end_turn",
        input_tokens: int = 12,
        output_tokens: int = 5,
        model: str = "claude-sonnet-4-5-20250929",
    ) -> None:
        content = [{"type": "text", "text": text}]
        self.enqueue(200, message_body(content, model, stop_reason, input_tokens, output_tokens))

    def enqueue_tool_use(self, name: str, tool_input: Any, *, model: str = "claude-sonnet-4-5") -> None:
        content = [{"type": "tool_use", "id": "toolu_fake01", "name": name, "input": tool_input}]
        self.enqueue(200, message_body(content, model, "tool_use", 20, 10))

    def enqueue_empty(self) -> None:
        self.enqueue(200, message_body([], "claude-sonnet-4-5", "end_turn", 3, 0))

    def error_body(self, status: int, message: str) -> Any:
        error_type = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake01"}

    def credential_of(self, headers: dict[str, str], query: dict[str, str], body: Any) -> str | None:
        return headers.get("x-api-key") or super().credential_of(headers, query, body)

    def route(self, request: RecordedRequest) -> Reply:
        if request.credential != self.api_key:
            return Reply(401, self.error_body(401, "invalid x-api-key"))
        path = request.path.rstrip("/")
        if request.method == "POST" and path == "/v1/messages":
            return self._messages(request.body if isinstance(request.body, dict) else {})
        if request.method == "GET" and path == "/v1/models":
            data = [_model(name) for name in self.models]
            return Reply(200, {"data": data, "has_more": False, "first_id": self.models[0], "last_id": self.models[-1]})
        if request.method == "GET" and path.startswith("/v1/models/"):
            name = path.removeprefix("/v1/models/")
            if name in self.models:
                return Reply(200, _model(name))
            return Reply(404, self.error_body(404, f"model: {name}"))
        return Reply(404, self.error_body(404, f"Not found: {request.path}"))

    def _messages(self, body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        if not messages or "max_tokens" not in body:
            return Reply(400, self.error_body(400, "messages and max_tokens are required"))
        model = body.get("model", "")
        if model not in self.models:
            return Reply(404, self.error_body(404, f"model: {model}"))
        input_tokens = count_tokens(_system_text(body.get("system"))) if body.get("system") else 0
        input_tokens += sum(count_tokens(_content_text(m.get("content"))) for m in messages)
        forced = _forced_tool(body)
        if forced is not None:
            tool_input = example_from_schema(forced.get("input_schema", {}))
            content = [{"type": "tool_use", "id": "toolu_fake01", "name": forced["name"], "input": tool_input}]
            return Reply(
                200, message_body(content, model, "tool_use", input_tokens, count_tokens(json.dumps(tool_input)))
            )
        text = _default_text(body, messages)
        content = [{"type": "text", "text": text}]
        return Reply(200, message_body(content, model, "end_turn", input_tokens, count_tokens(text)))


def message_body(
    content: list[dict[str, Any]], model: str, stop_reason: str, input_tokens: int, output_tokens: int
) -> dict[str, Any]:
    return {
        "id": "msg_fake01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def _forced_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    choice = body.get("tool_choice") or {}
    if choice.get("type") != "tool":
        return None
    return next((tool for tool in body.get("tools", []) if tool.get("name") == choice.get("name")), None)


def _default_text(body: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    output_format = (body.get("output_config") or {}).get("format") or {}
    if output_format.get("type") == "json_schema":
        return json.dumps(example_from_schema(output_format.get("schema", {})))
    users = [m for m in messages if m.get("role") == "user"]
    return "Echo: " + (_content_text(users[-1].get("content")) if users else "")


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return content or ""


def _system_text(system: Any) -> str:
    return _content_text(system)


def _model(name: str) -> dict[str, Any]:
    display = name.replace("claude-", "Claude ").replace("-", " ").title()
    return {"type": "model", "id": name, "display_name": display, "created_at": "2025-09-29T00:00:00Z"}
