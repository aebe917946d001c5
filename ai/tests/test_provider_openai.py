"""OpenAIProvider (official openai SDK) against the local OpenAI fake: wire format, Azure, errors, no retries."""

from __future__ import annotations

import json
import socket
import time
from email.utils import formatdate

import pytest

from ai.providers._vendor_common import retry_after_seconds
from ai.providers.base import (
    AuthenticationFailed,
    BadResponse,
    GenerateRequest,
    Message,
    Misconfigured,
    ModelNotOffered,
    ProviderSettings,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from ai.providers.openai_provider import OpenAIProvider
from ai.tests.fakes.openai_fake import OPENAI_TEST_KEY

TICKET_SCHEMA = {
    "title": "ticket triage",
    "type": "object",
    "properties": {"category": {"type": "string", "enum": ["billing", "login"]}, "urgent": {"type": "boolean"}},
    "required": ["category", "urgent"],
}


def ask(text: str = "Where is my parcel?", **fields) -> GenerateRequest:
    messages = (Message("system", "You are a helpful support agent."), Message("user", text))
    return GenerateRequest(messages=messages, **fields)


def provider_for(fake, **overrides) -> OpenAIProvider:
    return OpenAIProvider(fake.provider_settings(**overrides))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- happy paths ------------------------------------------------------------------------------------------------
def test_generate_returns_text_tokens_model_and_finish_reason(openai_fake):
    response = provider_for(openai_fake).generate(ask())

    assert response.text == "Echo: Where is my parcel?"
    assert response.model == "gpt-5.4-mini"
    assert (response.input_tokens, response.output_tokens) == (10, 5)  # the fake counts words
    assert response.finish_reason == "stop"


def test_generate_sends_the_conversation_and_limits_on_the_wire(openai_fake):
    provider_for(openai_fake).generate(ask(max_output_tokens=123))

    request = openai_fake.last
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.credential == OPENAI_TEST_KEY
    assert request.headers["authorization"] == "[redacted]"
    assert request.body["model"] == "gpt-5.4-mini"
    assert request.body["messages"] == [
        {"role": "system", "content": "You are a helpful support agent."},
        {"role": "user", "content": "Where is my parcel?"},
    ]
    # gpt-5 models are reasoning models: max_completion_tokens, and no temperature (they refuse one).
    assert request.body["max_completion_tokens"] == 123
    assert "temperature" not in request.body
    assert "response_format" not in request.body


def test_models_that_take_a_temperature_get_it(openai_fake):
    provider_for(openai_fake, model="gpt-4o-mini").generate(ask(temperature=0.7))

    assert openai_fake.last.body["temperature"] == 0.7
    assert openai_fake.last.body["max_tokens"] == 800  # a compatible endpoint, a non-reasoning model


def test_json_schema_is_requested_with_response_format(openai_fake):
    response = provider_for(openai_fake).generate(ask("I cannot log in", json_schema=TICKET_SCHEMA))

    response_format = openai_fake.last.body["response_format"]
    assert response_format == {
        "type": "json_schema",
        "json_schema": {"name": "ticket_triage", "schema": TICKET_SCHEMA, "strict": False},
    }
    assert json.loads(response.text) == {"category": "billing", "urgent": False}


def test_strict_json_can_be_switched_on(openai_fake):
    provider_for(openai_fake, extra={"strict_json": True}).generate(ask(json_schema=TICKET_SCHEMA))

    assert openai_fake.last.body["response_format"]["json_schema"]["strict"] is True


def test_scripted_reply_and_usage_come_back(openai_fake):
    openai_fake.enqueue_reply("Your parcel left our depot today.", prompt_tokens=321, completion_tokens=9)

    response = provider_for(openai_fake).generate(ask())

    assert response.text == "Your parcel left our depot today."
    assert (response.input_tokens, response.output_tokens) == (321, 9)
    assert response.model == "gpt-4o-mini-2024-07-18"


def test_embed_returns_one_vector_per_text_in_order(openai_fake):
    texts = ["reset my password", "invoice is wrong", "reset my password"]

    result = provider_for(openai_fake).embed(texts)

    assert len(result.vectors) == 3
    assert all(len(vector) == 1536 for vector in result.vectors)
    assert result.vectors[0] == result.vectors[2] != result.vectors[1]
    assert result.model == "text-embedding-3-small"
    assert result.input_tokens == 9
    body = openai_fake.last.body
    assert openai_fake.last.path == "/v1/embeddings"
    assert body == {"model": "text-embedding-3-small", "input": texts, "encoding_format": "float"}


def test_embed_asks_for_shorter_vectors_when_configured(openai_fake):
    provider = provider_for(
        openai_fake, extra={"embedding_dimensions": 384, "embedding_model": "text-embedding-3-large"}
    )

    result = provider.embed(["hello"])

    assert len(result.vectors[0]) == 384
    assert openai_fake.last.body["dimensions"] == 384
    assert openai_fake.last.body["model"] == "text-embedding-3-large"


def test_embed_of_nothing_makes_no_call(openai_fake):
    assert provider_for(openai_fake).embed([]).vectors == []
    assert openai_fake.requests == []


def test_test_connection_lists_models(openai_fake):
    message = provider_for(openai_fake).test_connection()

    assert "gpt-5.4-mini" in message and "available" in message
    assert [(r.method, r.path) for r in openai_fake.requests] == [("GET", "/v1/models")]


def test_test_connection_names_a_missing_model(openai_fake):
    with pytest.raises(ModelNotOffered, match="does not offer the model 'gpt-9'") as caught:
        provider_for(openai_fake, model="gpt-9").test_connection()

    assert caught.value.reached
    assert "gpt-4o-mini" not in str(caught.value)  # what the endpoint listed is its answer: not echoed


# ---- Azure OpenAI and OpenAI-compatible endpoints ----------------------------------------------------------------
def test_azure_uses_deployment_path_api_version_and_api_key_header(openai_fake):
    provider = provider_for(openai_fake, azure=True)

    response = provider.generate(ask())

    request = openai_fake.last
    assert response.text == "Echo: Where is my parcel?"
    assert request.path == "/openai/deployments/gpt-5.4-mini/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    assert request.headers["api-key"] == "[redacted]" and request.credential == OPENAI_TEST_KEY
    assert "authorization" not in request.headers


def test_azure_test_connection_asks_the_deployment_for_a_tiny_answer(openai_fake):
    message = provider_for(openai_fake, azure=True).test_connection()

    assert message == "Connected to Azure OpenAI: deployment 'gpt-5.4-mini' answered."
    assert openai_fake.last.path.endswith("/deployments/gpt-5.4-mini/chat/completions")
    assert openai_fake.last.body["max_completion_tokens"] == 16


def test_azure_unknown_deployment_is_a_readable_misconfiguration(openai_fake):
    with pytest.raises(Misconfigured, match=r"Azure OpenAI does not know this model.*deployment for this resource"):
        provider_for(openai_fake, azure=True, model="no-such-deployment").generate(ask())


def test_azure_without_api_version_is_misconfigured(openai_fake):
    settings = ProviderSettings(api_key="k", base_url=openai_fake.origin, extra={"azure": True})

    with pytest.raises(Misconfigured, match="API version"):
        OpenAIProvider(settings).generate(ask())
    assert openai_fake.requests == []


def test_compatible_endpoint_works_without_a_key(openai_fake):
    openai_fake.api_key = None  # like Ollama: any key, or none
    openai_fake.models.append("llama3.2:latest")
    provider = OpenAIProvider(ProviderSettings(base_url=openai_fake.base_url, model="llama3.2:latest"))

    assert provider.generate(ask()).text == "Echo: Where is my parcel?"
    assert openai_fake.last.body["max_tokens"] == 800
    assert "max_completion_tokens" not in openai_fake.last.body
    assert OpenAIProvider(ProviderSettings(base_url=openai_fake.base_url, model="llama3.2")).test_connection()


def test_official_openai_without_a_key_is_misconfigured():
    with pytest.raises(Misconfigured, match="OpenAI needs an API key"):
        OpenAIProvider(ProviderSettings()).generate(ask())


# ---- error mapping: one request per call, readable messages, never the key ------------------------------------
def test_429_is_rate_limited_with_retry_after_seconds(openai_fake):
    openai_fake.enqueue_rate_limit(retry_after=7)

    with pytest.raises(RateLimited) as caught:
        provider_for(openai_fake).generate(ask())

    assert caught.value.retry_after == 7.0
    assert caught.value.retryable
    assert "OpenAI-compatible endpoint 127.0.0.1" in str(caught.value) and "HTTP 429" in str(caught.value)
    assert len(openai_fake.requests) == 1  # the SDK did not retry


def test_429_prefers_retry_after_ms(openai_fake):
    openai_fake.enqueue_error(429, headers={"retry-after-ms": "1500", "retry-after": "9"})

    with pytest.raises(RateLimited) as caught:
        provider_for(openai_fake).embed(["x"])

    assert caught.value.retry_after == 1.5
    assert len(openai_fake.requests) == 1


def test_429_without_header_has_no_retry_after(openai_fake):
    openai_fake.enqueue_error(429)

    with pytest.raises(RateLimited) as caught:
        provider_for(openai_fake).generate(ask())

    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "error_class", "words"),
    [
        (500, ProviderUnavailable, "is unavailable (HTTP 500)"),
        (503, ProviderUnavailable, "is unavailable (HTTP 503)"),
        (401, AuthenticationFailed, "rejected the credentials (HTTP 401)"),
        (403, AuthenticationFailed, "refused access (HTTP 403)"),
        (400, Misconfigured, "rejected the request (HTTP 400)"),
        (404, Misconfigured, "does not know this model or address (HTTP 404)"),
    ],
)
def test_http_errors_map_to_provider_errors(openai_fake, status, error_class, words):
    openai_fake.enqueue_error(status, "Something specific went wrong.")

    with pytest.raises(error_class) as caught:
        provider_for(openai_fake).generate(ask())

    assert words in str(caught.value)
    assert "Something specific went wrong." in str(caught.value)
    assert "(request id req_openai_fake01)" in str(caught.value)  # what OpenAI support asks for
    assert len(openai_fake.requests) == 1


def test_wrong_key_is_authentication_failed_and_the_key_never_shows(openai_fake):
    wrong_key = "sk-proj-WRONGKEY0123456789abcdefghijklmnopqrstuv"

    with pytest.raises(AuthenticationFailed) as caught:
        provider_for(openai_fake, api_key=wrong_key).generate(ask())

    assert "Incorrect API key provided" in str(caught.value)
    assert wrong_key not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no SDK exception to log


def test_a_key_echoed_by_the_vendor_is_hidden(openai_fake):
    openai_fake.enqueue_error(401, f"Incorrect API key provided: {OPENAI_TEST_KEY}. And sk-abc1****wxyz too.")

    with pytest.raises(AuthenticationFailed) as caught:
        provider_for(openai_fake).generate(ask())

    assert OPENAI_TEST_KEY not in str(caught.value)
    assert "sk-abc1" not in str(caught.value)
    assert "Incorrect API key provided: [hidden]" in str(caught.value)


def test_timeout_is_raised_within_the_configured_timeout(openai_fake):
    openai_fake.enqueue_slow(5)
    started = time.monotonic()

    with pytest.raises(ProviderTimeout, match=r"did not answer within 0.5 s"):
        provider_for(openai_fake, timeout_seconds=0.5).generate(ask())

    assert time.monotonic() - started < 2.0
    assert len(openai_fake.requests) == 1


def test_connection_refused_is_unavailable():
    settings = ProviderSettings(api_key="k", base_url=f"http://127.0.0.1:{closed_port()}/v1", timeout_seconds=1)

    with pytest.raises(ProviderUnavailable, match="Could not reach"):
        OpenAIProvider(settings).generate(ask())


@pytest.mark.parametrize(
    "script",
    [
        lambda fake: fake.enqueue_malformed(),
        lambda fake: fake.enqueue(200, "this is not JSON"),
        lambda fake: fake.enqueue(200, {"unexpected": True}),
        lambda fake: fake.enqueue_empty(),
        lambda fake: fake.enqueue_reply(None, finish_reason="stop"),
    ],
    ids=["truncated-json", "plain-text", "wrong-shape", "no-choices", "no-content"],
)
def test_unusable_bodies_are_bad_responses(openai_fake, script):
    script(openai_fake)

    with pytest.raises(BadResponse, match="unusable answer"):
        provider_for(openai_fake).generate(ask())
    assert len(openai_fake.requests) == 1


def test_an_answer_cut_off_by_the_limit_says_so(openai_fake):
    openai_fake.enqueue_reply(None, finish_reason="length")

    with pytest.raises(BadResponse, match="output-token limit"):
        provider_for(openai_fake).generate(ask())


def test_embeddings_with_a_missing_vector_are_bad_responses(openai_fake):
    openai_fake.enqueue(200, {"object": "list", "data": [], "model": "text-embedding-3-small"})

    with pytest.raises(BadResponse):
        provider_for(openai_fake).embed(["a", "b"])


def test_bad_embedding_dimensions_are_misconfigured(openai_fake):
    with pytest.raises(Misconfigured, match="positive whole number"):
        provider_for(openai_fake, extra={"embedding_dimensions": "many"}).embed(["a"])
    assert openai_fake.requests == []


# ---- Retry-After parsing shared by every provider ----------------------------------------------------------------
def test_retry_after_accepts_seconds_milliseconds_and_http_dates():
    assert retry_after_seconds({"retry-after": "12"}) == 12.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    in_30_seconds = formatdate(time.time() + 30, usegmt=True)
    assert 27 <= retry_after_seconds({"retry-after": in_30_seconds}) <= 31
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
