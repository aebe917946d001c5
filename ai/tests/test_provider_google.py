"""GoogleProvider (google-genai SDK) against the local Gemini fake."""

from __future__ import annotations

import json
import socket
import time

import pytest

from ai.providers.base import (
    AuthenticationFailed,
    BadResponse,
    GenerateRequest,
    Message,
    Misconfigured,
    ProviderSettings,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from ai.providers.google_provider import GoogleProvider
from ai.tests.fakes.google_fake import GOOGLE_TEST_KEY, generate_body

SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}}},
    "required": ["summary", "keywords"],
}


def ask(**fields) -> GenerateRequest:
    messages = (
        Message("system", "Summarise support tickets."),
        Message("user", "The printer jams every morning."),
        Message("assistant", "Which model is it?"),
        Message("user", "An LX-200."),
    )
    return GenerateRequest(messages=messages, **fields)


def provider_for(fake, **overrides) -> GoogleProvider:
    return GoogleProvider(fake.provider_settings(**overrides))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_generate_returns_text_tokens_model_and_finish_reason(google_fake):
    response = provider_for(google_fake).generate(ask())

    assert response.text == "Echo: An LX-200."
    assert response.model == "gemini-2.5-flash"
    assert (response.input_tokens, response.output_tokens) == (14, 3)
    assert response.finish_reason == "stop"


def test_request_on_the_wire(google_fake):
    provider_for(google_fake).generate(ask(max_output_tokens=256, temperature=0.4))

    request = google_fake.last
    assert (request.method, request.path) == ("POST", "/v1/models/gemini-2.5-flash:generateContent")
    assert request.credential == GOOGLE_TEST_KEY
    assert request.headers["x-goog-api-key"] == "[redacted]"
    assert request.body["systemInstruction"]["parts"] == [{"text": "Summarise support tickets."}]
    assert [(c["role"], c["parts"][0]["text"]) for c in request.body["contents"]] == [
        ("user", "The printer jams every morning."),
        ("model", "Which model is it?"),
        ("user", "An LX-200."),
    ]
    assert request.body["generationConfig"] == {"temperature": 0.4, "maxOutputTokens": 256}


def test_json_schema_uses_response_mime_type_and_json_schema(google_fake):
    response = provider_for(google_fake).generate(ask(json_schema=SUMMARY_SCHEMA))

    config = google_fake.last.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SUMMARY_SCHEMA
    assert json.loads(response.text) == {"summary": "example", "keywords": []}


def test_json_schema_can_use_the_openapi_response_schema(google_fake):
    response = provider_for(google_fake, extra={"json_schema_mode": "openapi"}).generate(
        ask(json_schema=SUMMARY_SCHEMA)
    )

    config = google_fake.last.body["generationConfig"]
    assert config["responseSchema"]["type"] == "OBJECT"  # the SDK converted it to Google's OpenAPI subset
    assert "responseJsonSchema" not in config
    assert json.loads(response.text)["summary"] == "example"


def test_thinking_budget_and_thought_tokens(google_fake):
    body = generate_body("Short answer.", "gemini-2.5-flash-001", "STOP", 40, 3)
    body["usageMetadata"]["thoughtsTokenCount"] = 25
    body["candidates"][0]["content"]["parts"].insert(0, {"text": "Let me think…", "thought": True})
    google_fake.enqueue(200, body)

    response = provider_for(google_fake, extra={"thinking_budget": 0}).generate(ask())

    thinking = google_fake.last.body["generationConfig"]["thinkingConfig"]
    assert thinking in ({"thinkingBudget": 0}, {"thinking_budget": 0})  # protobuf JSON takes either spelling
    assert response.text == "Short answer."  # thoughts are not the answer
    assert (response.input_tokens, response.output_tokens) == (40, 28)  # thinking is billed as output
    assert response.model == "gemini-2.5-flash-001"


def test_embed_batches_texts_and_keeps_their_order(google_fake):
    texts = [f"ticket {n}" for n in range(150)]

    result = provider_for(google_fake, extra={"embedding_dimensions": 64}).embed(texts)

    assert len(result.vectors) == 150 and all(len(vector) == 64 for vector in result.vectors)
    assert result.vectors[0] != result.vectors[1]
    assert result.model == "gemini-embedding-001"
    calls = google_fake.requests_to(":batchEmbedContents")
    assert [len(call.body["requests"]) for call in calls] == [100, 50]  # the API takes 100 per call
    first = calls[0].body["requests"][0]
    assert first == {
        "content": {"parts": [{"text": "ticket 0"}], "role": "user"},
        "outputDimensionality": 64,
        "model": "models/gemini-embedding-001",
    }


def test_test_connection_gets_the_model(google_fake):
    message = provider_for(google_fake).test_connection()

    assert message == "Connected to Google Gemini: model 'gemini-2.5-flash' is available."  # no display name echoed
    assert [(r.method, r.path) for r in google_fake.requests] == [("GET", "/v1/models/gemini-2.5-flash")]


def test_unknown_model_is_misconfigured(google_fake):
    with pytest.raises(Misconfigured, match=r"HTTP 404.*models/gemini-0 is not found"):
        provider_for(google_fake, model="gemini-0").generate(ask())


def test_missing_key_is_misconfigured():
    with pytest.raises(Misconfigured, match="needs an API key"):
        GoogleProvider(ProviderSettings()).generate(ask())


def test_wrong_key_is_authentication_failed_although_google_says_400(google_fake):
    wrong = "AIzaSyWRONG-0123456789abcdefghijklmn"

    with pytest.raises(AuthenticationFailed, match="API key not valid") as caught:
        provider_for(google_fake, api_key=wrong).generate(ask())

    assert wrong not in str(caught.value)
    assert len(google_fake.requests) == 1


def test_429_reads_retry_delay_from_the_body(google_fake):
    google_fake.enqueue_rate_limit(retry_after=17)

    with pytest.raises(RateLimited) as caught:
        provider_for(google_fake).generate(ask())

    assert caught.value.retry_after == 17.0
    assert "HTTP 429" in str(caught.value) and "Resource has been exhausted" in str(caught.value)
    assert len(google_fake.requests) == 1  # google-genai retried nothing


def test_429_reads_a_retry_after_header_too(google_fake):
    google_fake.enqueue_rate_limit(retry_after=2.5, in_header=True)

    with pytest.raises(RateLimited) as caught:
        provider_for(google_fake).embed(["x"])

    assert caught.value.retry_after == 2.5


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(500, ProviderUnavailable), (503, ProviderUnavailable), (403, AuthenticationFailed), (400, Misconfigured)],
)
def test_http_errors_map_to_provider_errors(google_fake, status, error_class):
    google_fake.enqueue_error(status, "Details from Google.")

    with pytest.raises(error_class, match=rf"HTTP {status}.*Details from Google"):
        provider_for(google_fake).generate(ask())
    assert len(google_fake.requests) == 1


def test_timeout_is_raised_within_the_configured_timeout(google_fake):
    google_fake.enqueue_slow(5)
    started = time.monotonic()

    with pytest.raises(ProviderTimeout, match=r"within 0\.5 s"):
        provider_for(google_fake, timeout_seconds=0.5).generate(ask())

    assert time.monotonic() - started < 2.0
    assert len(google_fake.requests) == 1


def test_connection_refused_is_unavailable():
    port = closed_port()
    settings = ProviderSettings(api_key="k", base_url=f"http://127.0.0.1:{port}", timeout_seconds=1)

    with pytest.raises(ProviderUnavailable, match=f"Could not reach Google Gemini at 127.0.0.1:{port}"):
        GoogleProvider(settings).generate(ask())


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (lambda fake: fake.enqueue_malformed(), "could not be read"),
        (lambda fake: fake.enqueue(200, "plain text"), "could not be read"),
        (lambda fake: fake.enqueue_empty(), r"blocked the prompt \(SAFETY\)"),
        (lambda fake: fake.enqueue(200, {"unexpected": 1}), "no candidates"),
        (lambda fake: fake.enqueue_reply("", finish_reason="SAFETY"), "safety filter"),
        (lambda fake: fake.enqueue_reply("", finish_reason="MAX_TOKENS"), "output-token limit"),
    ],
    ids=["truncated-json", "plain-text", "blocked", "wrong-shape", "filtered", "cut-off"],
)
def test_unusable_bodies_are_bad_responses(google_fake, script, words):
    script(google_fake)

    with pytest.raises(BadResponse, match=words):
        provider_for(google_fake).generate(ask())
    assert len(google_fake.requests) == 1
