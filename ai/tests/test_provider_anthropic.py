"""AnthropicProvider (official anthropic SDK) against the local Anthropic fake."""

from __future__ import annotations

import json
import time

import pytest

from ai.providers.anthropic_provider import JSON_TOOL_NAME, AnthropicProvider
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
    Unsupported,
)
from ai.tests.fakes.anthropic_fake import ANTHROPIC_TEST_KEY, message_body

REPLY_SCHEMA = {
    "type": "object",
    "properties": {"reply": {"type": "string"}, "tone": {"type": "string", "enum": ["warm", "neutral"]}},
    "required": ["reply", "tone"],
    "additionalProperties": False,
}


def conversation(**fields) -> GenerateRequest:
    messages = (
        Message("system", "You draft replies for a support team."),
        Message("system", "Never promise refunds."),
        Message("user", "My order is late."),
        Message("assistant", "Sorry to hear that. What is the order number?"),
        Message("user", "It is 4711."),
    )
    return GenerateRequest(messages=messages, **fields)


def provider_for(fake, **overrides) -> AnthropicProvider:
    return AnthropicProvider(fake.provider_settings(**overrides))


def test_generate_returns_text_tokens_model_and_finish_reason(anthropic_fake):
    response = provider_for(anthropic_fake).generate(conversation())

    assert response.text == "Echo: It is 4711."
    assert response.model == "claude-haiku-4-5"
    assert (response.input_tokens, response.output_tokens) == (26, 4)
    assert response.finish_reason == "stop"  # Anthropic's "end_turn", normalised


def test_system_messages_go_to_the_system_field_and_turns_keep_their_order(anthropic_fake):
    provider_for(anthropic_fake).generate(conversation(max_output_tokens=300, temperature=0.9))

    request = anthropic_fake.last
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.credential == ANTHROPIC_TEST_KEY
    assert request.headers["authorization"] == "[redacted]"
    assert request.headers["anthropic-version"]
    assert request.body["system"] == "You draft replies for a support team.\n\nNever promise refunds."
    assert [m["role"] for m in request.body["messages"]] == ["user", "assistant", "user"]
    assert request.body["max_tokens"] == 300
    assert "temperature" not in request.body  # anthropic 2.12 has no temperature parameter any more
    assert "output_config" not in request.body and "tools" not in request.body


def test_usage_counts_prompt_cache_tokens_as_input(anthropic_fake):
    body = message_body([{"type": "text", "text": "Done."}], "claude-sonnet-4-5-20250929", "end_turn", 100, 3)
    body["usage"] |= {"cache_creation_input_tokens": 20, "cache_read_input_tokens": 5}
    anthropic_fake.enqueue(200, body)

    response = provider_for(anthropic_fake).generate(conversation())

    assert (response.input_tokens, response.output_tokens) == (125, 3)
    assert response.model == "claude-sonnet-4-5-20250929"


def test_json_schema_uses_native_structured_outputs(anthropic_fake):
    response = provider_for(anthropic_fake).generate(conversation(json_schema=REPLY_SCHEMA))

    assert anthropic_fake.last.body["output_config"] == {"format": {"type": "json_schema", "schema": REPLY_SCHEMA}}
    assert json.loads(response.text) == {"reply": "example", "tone": "warm"}


def test_json_schema_can_use_a_forced_tool_instead(anthropic_fake):
    provider = provider_for(anthropic_fake, extra={"json_mode": "tool"})

    response = provider.generate(conversation(json_schema=REPLY_SCHEMA))

    body = anthropic_fake.last.body
    assert body["tool_choice"] == {"type": "tool", "name": JSON_TOOL_NAME}
    assert body["tools"][0]["input_schema"] == REPLY_SCHEMA
    assert "output_config" not in body
    assert json.loads(response.text) == {"reply": "example", "tone": "warm"}
    assert response.finish_reason == "stop"


def test_forced_tool_answer_without_the_tool_is_a_bad_response(anthropic_fake):
    anthropic_fake.enqueue_reply("I would rather chat.")

    with pytest.raises(BadResponse):
        provider_for(anthropic_fake, extra={"json_mode": "tool"}).generate(conversation(json_schema=REPLY_SCHEMA))


def test_unknown_json_mode_is_misconfigured(anthropic_fake):
    with pytest.raises(Misconfigured, match="Unknown JSON mode"):
        provider_for(anthropic_fake, extra={"json_mode": "prose"}).generate(conversation())


def test_embeddings_are_unsupported(anthropic_fake):
    with pytest.raises(Unsupported, match="no embeddings"):
        provider_for(anthropic_fake).embed(["hello"])
    assert anthropic_fake.requests == []


def test_test_connection_retrieves_the_configured_model(anthropic_fake):
    message = provider_for(anthropic_fake).test_connection()

    assert "claude-haiku-4-5" in message and "available" in message
    assert [(r.method, r.path) for r in anthropic_fake.requests] == [("GET", "/v1/models/claude-haiku-4-5")]


def test_test_connection_with_an_unknown_model_is_misconfigured(anthropic_fake):
    with pytest.raises(Misconfigured, match=r"Anthropic does not know this model.*claude-nope"):
        provider_for(anthropic_fake, model="claude-nope").test_connection()


def test_generating_with_an_unknown_model_is_misconfigured(anthropic_fake):
    with pytest.raises(Misconfigured, match=r"HTTP 404.*model: claude-nope"):
        provider_for(anthropic_fake, model="claude-nope").generate(conversation())


def test_missing_key_is_misconfigured():
    with pytest.raises(Misconfigured, match="needs an API key"):
        AnthropicProvider(ProviderSettings()).generate(conversation())


def test_wrong_key_is_authentication_failed_without_the_key(anthropic_fake):
    wrong = "sk-ant-api03-WRONG0123456789abcdefghijkl"

    with pytest.raises(AuthenticationFailed, match=r"HTTP 401.*invalid x-api-key") as caught:
        provider_for(anthropic_fake, api_key=wrong).generate(conversation())

    assert wrong not in str(caught.value)
    assert "request id req_fake01" in str(caught.value)
    assert len(anthropic_fake.requests) == 1


def test_429_is_rate_limited_with_retry_after(anthropic_fake):
    anthropic_fake.enqueue_rate_limit(retry_after=12)

    with pytest.raises(RateLimited) as caught:
        provider_for(anthropic_fake).generate(conversation())

    assert caught.value.retry_after == 12.0
    assert len(anthropic_fake.requests) == 1


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (500, ProviderUnavailable),
        (529, ProviderUnavailable),  # overloaded_error
        (403, AuthenticationFailed),
        (400, Misconfigured),
        (413, Misconfigured),
    ],
)
def test_http_errors_map_to_provider_errors(anthropic_fake, status, error_class):
    anthropic_fake.enqueue_error(status, "Details from Anthropic.")

    with pytest.raises(error_class, match=rf"HTTP {status}.*Details from Anthropic"):
        provider_for(anthropic_fake).generate(conversation())
    assert len(anthropic_fake.requests) == 1


def test_timeout_is_raised_within_the_configured_timeout(anthropic_fake):
    anthropic_fake.enqueue_slow(5)
    started = time.monotonic()

    with pytest.raises(ProviderTimeout, match=r"within 0\.5 s"):
        provider_for(anthropic_fake, timeout_seconds=0.5).generate(conversation())

    assert time.monotonic() - started < 2.0
    assert len(anthropic_fake.requests) == 1


@pytest.mark.parametrize(
    "script",
    [
        lambda fake: fake.enqueue_malformed(),
        lambda fake: fake.enqueue(200, "plain text, not JSON"),
        lambda fake: fake.enqueue_empty(),
    ],
    ids=["truncated-json", "plain-text", "no-content"],
)
def test_unusable_bodies_are_bad_responses(anthropic_fake, script):
    script(anthropic_fake)

    with pytest.raises(BadResponse, match="Anthropic returned an unusable answer"):
        provider_for(anthropic_fake).generate(conversation())
    assert len(anthropic_fake.requests) == 1


def test_a_refusal_reports_the_safety_filter(anthropic_fake):
    anthropic_fake.enqueue_reply("", stop_reason="refusal")

    with pytest.raises(BadResponse, match="safety filter"):
        provider_for(anthropic_fake).generate(conversation())


def test_an_answer_cut_off_by_the_limit_says_so(anthropic_fake):
    anthropic_fake.enqueue_reply("", stop_reason="max_tokens")

    with pytest.raises(BadResponse, match="output-token limit"):
        provider_for(anthropic_fake).generate(conversation())
