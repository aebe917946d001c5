"""A fake Gemini API (Google AI Studio) in the wire format google-genai 3.4 speaks.

Paths (`v1`, which google-genai uses by default, and `v1beta`): `POST /{v}/models/{model}:generateContent`,
`:embedContent`, `:batchEmbedContents`, `GET /{v}/models/{model}` and `GET /{v}/models`; the key arrives as
`x-goog-api-key`. Like the real service, a wrong key is a 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID`
(not a 401), and a 429 carries its wait as a `google.rpc.RetryInfo` `retryDelay` in the body.

Default answers: a candidate echoing the last user text, or with `responseMimeType: application/json` a JSON text
matching `responseSchema`/`responseJsonSchema`; deterministic unit vectors (768 dimensions unless
`outputDimensionality` asks otherwise). Token counts are word counts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ai.providers.base import ProviderSettings

from .server import FakeServer, RecordedRequest, Reply, count_tokens, example_from_schema, fake_vector

GOOGLE_TEST_KEY = "AIzaSyTest-0123456789abcdefghijklmnopq"
DEFAULT_EMBEDDING_DIMENSIONS = 768
MODELS = ("gemini-2.5-flash", "gemini-embedding-001")

_ACTION = re.compile(r"^/(?P<version>v1|v1beta)/models/(?P<model>[^:/]+):(?P<action>\w+)$")
_MODEL = re.compile(r"^/(?P<version>v1|v1beta)/models(?:/(?P<model>[^:/]+))?$")
_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class GoogleFake(FakeServer):
    vendor = "google"
    secret_headers = ("x-goog-api-key", "authorization")
    secret_fields = ("key",)  # the key may also come as ?key=...

    def __init__(self, *, api_key: str = GOOGLE_TEST_KEY, models: tuple[str, ...] = MODELS) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = list(models)

    @property
    def base_url(self) -> str:
        return self.origin

    def provider_settings(self, **overrides: Any) -> ProviderSettings:
        fields = {"api_key": self.api_key, "base_url": self.base_url, "timeout_seconds": 2.0}
        return ProviderSettings(**(fields | overrides))

    # ---- scripting helpers -------------------------------------------------------------------------------------
    def enqueue_reply(
        self,
        text: str,
        *,
        finish_reason: str = "STOP",
        prompt_tokens: int = 12,
        output_tokens: int = 5,
        model_version: str = "gemini-2.5-flash",
    ) -> None:
        self.enqueue(200, generate_body(text, model_version, finish_reason, prompt_tokens, output_tokens))

    def enqueue_empty(self) -> None:
        """A 200 with no candidates, as when the prompt itself was blocked."""
        body = generate_body("", "gemini-2.5-flash", "STOP", 3, 0)
        body["candidates"] = []
        body["promptFeedback"] = {"blockReason": "SAFETY"}
        self.enqueue(200, body)

    def enqueue_rate_limit(self, retry_after: float = 1, *, path: str | None = None, in_header: bool = False) -> None:
        """429 RESOURCE_EXHAUSTED with the wait as RetryInfo in the body (what Gemini sends), or as a header."""
        body = self.error_body(429, "Resource has been exhausted (e.g. check quota).")
        if in_header:
            self.enqueue(429, body, {"retry-after": str(retry_after)}, path=path)
            return
        body["error"]["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after:g}s"}
        ]
        self.enqueue(429, body, path=path)

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": status, "message": message, "status": _STATUSES.get(status, "UNKNOWN")}}

    def credential_of(self, headers: dict[str, str], query: dict[str, str], body: Any) -> str | None:
        return headers.get("x-goog-api-key") or query.get("key") or super().credential_of(headers, query, body)

    # ---- routes ------------------------------------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Reply:
        if request.credential != self.api_key:
            return Reply(400, self._invalid_key_body())
        body = request.body if isinstance(request.body, dict) else {}
        if (match := _ACTION.match(request.path)) and request.method == "POST":
            model, action = match["model"], match["action"]
            if model not in self.models:
                return Reply(404, self.error_body(404, f"models/{model} is not found for API version {match[1]}."))
            if action == "generateContent":
                return self._generate(model, body)
            if action in ("embedContent", "batchEmbedContents"):
                return self._embed(action, body)
        if (match := _MODEL.match(request.path)) and request.method == "GET":
            if match["model"] is None:
                return Reply(200, {"models": [_model(name) for name in self.models]})
            if match["model"] in self.models:
                return Reply(200, _model(match["model"]))
            return Reply(404, self.error_body(404, f"models/{match['model']} is not found."))
        return Reply(404, self.error_body(404, f"Unknown path {request.path}"))

    def _generate(self, model: str, body: dict[str, Any]) -> Reply:
        contents = body.get("contents") or []
        if not contents:
            return Reply(400, self.error_body(400, "* GenerateContentRequest.contents: contents is not specified"))
        prompt_tokens = sum(count_tokens(_parts_text(content)) for content in contents)
        if body.get("systemInstruction"):
            prompt_tokens += count_tokens(_parts_text(body["systemInstruction"]))
        text = _default_text(body, contents)
        return Reply(200, generate_body(text, model, "STOP", prompt_tokens, count_tokens(text)))

    def _embed(self, action: str, body: dict[str, Any]) -> Reply:
        items = body.get("requests") if action == "batchEmbedContents" else [body]
        vectors = []
        for item in items or []:
            dimensions = int(item.get("outputDimensionality") or DEFAULT_EMBEDDING_DIMENSIONS)
            vectors.append({"values": fake_vector(_parts_text(item.get("content") or {}), dimensions)})
        if not vectors:
            return Reply(400, self.error_body(400, "* BatchEmbedContentsRequest.requests: contents is not specified"))
        if action == "embedContent":
            return Reply(200, {"embedding": vectors[0]})
        return Reply(200, {"embeddings": vectors})

    def _invalid_key_body(self) -> dict[str, Any]:
        body = self.error_body(400, "API key not valid. Please pass a valid API key.")
        body["error"]["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ]
        return body


def generate_body(text: str, model: str, finish_reason: str, prompt_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": model,
        "responseId": "fake-response-01",
    }


def _default_text(body: dict[str, Any], contents: list[dict[str, Any]]) -> str:
    config = body.get("generationConfig") or {}
    if config.get("responseMimeType") == "application/json":
        schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
        return json.dumps(example_from_schema(_lower_types(schema)))
    users = [content for content in contents if content.get("role", "user") == "user"]
    return "Echo: " + (_parts_text(users[-1]) if users else "")


def _lower_types(schema: Any) -> Any:
    """`responseSchema` (OpenAPI subset) spells types in capitals ("OBJECT"); JSON schema uses lower case."""
    if isinstance(schema, dict):
        return {
            key: (value.lower() if key == "type" and isinstance(value, str) else _lower_types(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_lower_types(item) for item in schema]
    return schema


def _parts_text(content: dict[str, Any]) -> str:
    return " ".join(part.get("text", "") for part in content.get("parts", []) if isinstance(part, dict))


def _model(name: str) -> dict[str, Any]:
    methods = ["embedContent"] if "embedding" in name else ["generateContent", "countTokens"]
    return {
        "name": f"models/{name}",
        "displayName": name.replace("-", " ").title(),
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": methods,
    }
