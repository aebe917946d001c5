"""A fake OpenAI API: `/v1/chat/completions`, `/v1/embeddings`, `/v1/models[/{id}]` in OpenAI's wire format.

Also answers the Azure OpenAI layout (`/openai/deployments/{deployment}/chat/completions?api-version=...` with
an `api-key` header), so one fake serves `OpenAI`, `AzureOpenAI` and "OpenAI-compatible" (Ollama, vLLM) clients:
pass `fake.base_url` (ends in `/v1`) as the base URL, or `fake.origin` as the Azure endpoint.

Default answers: a chat completion echoing the last user message ("Echo: ..."), or, when the request asks for a
JSON schema, a minimal JSON document matching it; deterministic unit vectors for embeddings (base64 or float, as
asked). Token counts are word counts. A request with another key than `fake.api_key` gets OpenAI's 401 (set
`api_key = None` to accept any, like a local Ollama); a model (or Azure deployment) not in `fake.models` gets 404.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from ai.providers.base import ProviderSettings

from .server import FakeServer, RecordedRequest, Reply, count_tokens, example_from_schema, fake_vector, now

OPENAI_TEST_KEY = "sk-test-openai-0123456789abcdefghijklmnop"
DEFAULT_EMBEDDING_DIMENSIONS = 1536
MODELS = ("gpt-5.4-mini", "gpt-4o-mini", "text-embedding-3-small")

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


class OpenAIFake(FakeServer):
    vendor = "openai"
    secret_headers = ("authorization", "api-key")
    always_headers = {"x-request-id": "req_openai_fake01"}

    def __init__(self, *, api_key: str | None = OPENAI_TEST_KEY, models: tuple[str, ...] = MODELS) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = list(models)

    @property
    def base_url(self) -> str:
        """What a client uses as `base_url` (the SDK appends `/chat/completions` etc.)."""
        return f"{self.origin}/v1"

    def provider_settings(self, *, azure: bool = False, **overrides: Any) -> ProviderSettings:
        """Settings that point a provider at this fake (`azure=True`: the Azure OpenAI layout)."""
        extra = {"azure": True, "api_version": "2024-10-21"} if azure else {}
        fields = {
            "api_key": self.api_key,
            "base_url": self.origin if azure else self.base_url,
            "timeout_seconds": 2.0,
            "extra": extra | overrides.pop("extra", {}),
        }
        return ProviderSettings(**(fields | overrides))

    # ---- scripting helpers -------------------------------------------------------------------------------------
    def enqueue_reply(
        self,
        text: str | None,
        *,
        finish_reason: str = "stop",
        prompt_tokens: int = 12,
        completion_tokens: int = 5,
        model: str = "gpt-4o-mini-2024-07-18",
    ) -> None:
        self.enqueue(200, completion_body(text, model, finish_reason, prompt_tokens, completion_tokens))

    def enqueue_empty(self) -> None:
        """A 200 completion with no choices at all."""
        body = completion_body("", "gpt-4o-mini", "stop", 3, 0)
        body["choices"] = []
        self.enqueue(200, body)

    def error_body(self, status: int, message: str) -> Any:
        error_type, code = _ERROR_TYPES.get(status, ("server_error", None))
        return {"error": {"message": message, "type": error_type, "param": None, "code": code}}

    def credential_of(self, headers: dict[str, str], query: dict[str, str], body: Any) -> str | None:
        return headers.get("api-key") or super().credential_of(headers, query, body)

    # ---- routes ------------------------------------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Reply:
        if self.api_key is not None and request.credential != self.api_key:
            message = "Incorrect API key provided. You can find your API key at https://platform.openai.com."
            return Reply(401, self.error_body(401, message))
        path = request.path.rstrip("/")
        if request.method == "POST" and path.endswith("/chat/completions"):
            return self._chat(request, _azure_deployment(path))
        if request.method == "POST" and path.endswith("/embeddings"):
            return self._embeddings(request)
        if request.method == "GET" and path.endswith("/models"):
            return Reply(200, {"object": "list", "data": [_model(name) for name in self.models]})
        if request.method == "GET" and "/models/" in path:
            name = path.rsplit("/models/", 1)[1]
            if name in self.models:
                return Reply(200, _model(name))
            return Reply(
                404, self.error_body(404, f"The model `{name}` does not exist or you do not have access to it.")
            )
        return Reply(404, self.error_body(404, f"Unknown path {request.path}"))

    def _chat(self, request: RecordedRequest, deployment: str | None) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        model = deployment or body.get("model") or ""
        if not body.get("messages"):
            return Reply(400, self.error_body(400, "'messages' is a required property"))
        if model not in self.models:
            return Reply(404, self._unknown_model_body(model, deployment is not None))
        text = _default_text(body)
        prompt_tokens = sum(count_tokens(_content_text(m.get("content"))) for m in body["messages"])
        return Reply(200, completion_body(text, model, "stop", prompt_tokens, count_tokens(text)))

    def _unknown_model_body(self, model: str, azure: bool) -> dict[str, Any]:
        if azure:
            message = (
                "The API deployment for this resource does not exist. If you created the deployment "
                "within the last 5 minutes, please wait a moment and try again."
            )
            return {"error": {"code": "DeploymentNotFound", "message": message}}
        return self.error_body(404, f"The model `{model}` does not exist or you do not have access to it.")

    def _embeddings(self, request: RecordedRequest) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        if not texts:
            return Reply(400, self.error_body(400, "'input' must not be empty"))
        dimensions = int(body.get("dimensions") or DEFAULT_EMBEDDING_DIMENSIONS)
        as_base64 = body.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": _encode_vector(fake_vector(text, dimensions), as_base64),
            }
            for index, text in enumerate(texts)
        ]
        tokens = sum(count_tokens(text) for text in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return Reply(200, {"object": "list", "data": data, "model": body.get("model", ""), "usage": usage})


def completion_body(
    text: str | None, model: str, finish_reason: str, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": now(),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_fake",
    }


def _default_text(body: dict[str, Any]) -> str:
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return json.dumps(example_from_schema(response_format["json_schema"].get("schema", {})))
    if response_format.get("type") == "json_object":
        return "{}"
    users = [m for m in body["messages"] if m.get("role") == "user"]
    return "Echo: " + (_content_text(users[-1].get("content")) if users else "")


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # content parts
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _azure_deployment(path: str) -> str | None:
    if "/deployments/" not in path:
        return None
    return path.split("/deployments/", 1)[1].split("/", 1)[0]


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "system"}


def _encode_vector(vector: list[float], as_base64: bool) -> list[float] | str:
    if not as_base64:
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
