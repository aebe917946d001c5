"""CopilotProvider (msal + Microsoft Graph over requests) against the TLS fake of Entra ID and Graph."""

from __future__ import annotations

import json
import time

import msal
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
    Unsupported,
)
from ai.providers.copilot_provider import CopilotProvider, compose_prompt
from ai.tests.fakes.microsoft_fake import MS_CLIENT_ID, MS_CLIENT_SECRET, MS_TENANT_ID, conversation_body


def ask(**fields) -> GenerateRequest:
    messages = (Message("system", "Answer as our support desk."), Message("user", "How do I reset my password?"))
    return GenerateRequest(messages=messages, **fields)


def provider_for(fake, **overrides) -> CopilotProvider:
    return CopilotProvider(fake.provider_settings(**overrides))


def age_cached_tokens(provider: CopilotProvider, *, seconds_left: int) -> None:
    cache = provider.token_cache
    kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
    for entry in list(cache.search(kind)):
        cache.modify(kind, entry, {"expires_on": str(int(time.time()) + seconds_left)})


def paths(requests) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in requests]


# ---- generation through the Copilot Chat API ------------------------------------------------------------------
def test_generate_opens_a_conversation_then_chats(microsoft_fake):
    request = ask()

    response = provider_for(microsoft_fake).generate(request)

    prompt = compose_prompt(request)
    assert response.text == f"Echo: {prompt}"  # the fake's answer: the last message of the conversation
    assert (response.model, response.input_tokens, response.output_tokens) == ("microsoft-365-copilot", 0, 0)
    assert response.finish_reason == "stop"
    create, chat = microsoft_fake.graph_requests
    assert (create.method, create.path, create.body) == ("POST", "/beta/copilot/conversations", {})
    conversation_id = next(iter(microsoft_fake.conversations))
    assert (chat.method, chat.path) == ("POST", f"/beta/copilot/conversations/{conversation_id}/chat")
    assert chat.body == {
        "message": {"text": prompt},
        "locationHint": {"timeZone": "UTC"},
        "contextualResources": {"webContext": {"isWebEnabled": False}},
    }
    assert chat.headers["authorization"] == "[redacted]"
    assert chat.credential in microsoft_fake.tokens  # a token the fake issued


def test_the_token_request_is_client_credentials_for_graph(microsoft_fake):
    provider_for(microsoft_fake).generate(ask())

    discovery, token = microsoft_fake.requests[:2]
    assert discovery.path == f"/{MS_TENANT_ID}/v2.0/.well-known/openid-configuration"
    assert token.path == f"/{MS_TENANT_ID}/oauth2/v2.0/token"
    assert token.body["grant_type"] == "client_credentials"
    assert token.body["client_id"] == MS_CLIENT_ID
    assert token.body["scope"] == f"{microsoft_fake.origin}/.default"
    assert token.body["client_secret"] == "[redacted]" and token.credential == MS_CLIENT_SECRET


def test_prompt_carries_instructions_earlier_turns_and_the_request():
    request = GenerateRequest(
        messages=(
            Message("system", "Be brief."),
            Message("user", "My invoice is wrong."),
            Message("assistant", "Which invoice?"),
            Message("user", "INV-42."),
        )
    )

    assert compose_prompt(request) == (
        "Instructions:\nBe brief.\n\n"
        "Conversation so far:\nUser: My invoice is wrong.\nAssistant: Which invoice?\n\n"
        "Request:\nINV-42."
    )
    assert compose_prompt(GenerateRequest(messages=(Message("user", "Hi"),))) == "Hi"


def test_json_is_asked_for_in_words_and_cut_out_of_the_answer(microsoft_fake):
    microsoft_fake.enqueue_reply('Here you go:\n```json\n{"category": "login", "urgent": true}\n```\nAnything else?')
    schema = {"type": "object", "properties": {"category": {"type": "string"}, "urgent": {"type": "boolean"}}}

    response = provider_for(microsoft_fake).generate(ask(json_schema=schema))

    assert json.loads(response.text) == {"category": "login", "urgent": True}
    prompt = microsoft_fake.requests_to("/chat")[0].body["message"]["text"]
    assert "Reply with a single JSON document" in prompt and '"urgent":{"type":"boolean"}' in prompt


def test_time_zone_and_web_grounding_are_configurable(microsoft_fake):
    provider = provider_for(microsoft_fake, extra={"time_zone": "Europe/Berlin", "web_grounding": True})

    provider.generate(ask())

    chat = microsoft_fake.requests_to("/chat")[0].body
    assert chat["locationHint"] == {"timeZone": "Europe/Berlin"}
    assert chat["contextualResources"]["webContext"]["isWebEnabled"] is True


def test_embeddings_are_unsupported(microsoft_fake):
    with pytest.raises(Unsupported):
        provider_for(microsoft_fake).embed(["hello"])
    assert microsoft_fake.requests == []


def test_test_connection_reads_the_organization_and_opens_a_conversation(microsoft_fake):
    message = provider_for(microsoft_fake).test_connection()

    assert message == (
        f"Connected to Microsoft Graph for the tenant {MS_TENANT_ID}; the Copilot Chat API accepted the app's token."
    )  # the organisation's name is Graph's answer: not echoed
    assert paths(microsoft_fake.graph_requests) == [
        ("GET", "/v1.0/organization"),
        ("POST", "/beta/copilot/conversations"),
    ]


# ---- tokens: cached, refreshed ----------------------------------------------------------------------------------
def test_a_second_call_reuses_the_cached_token_even_from_a_new_provider_object(microsoft_fake):
    provider_for(microsoft_fake).generate(ask())
    provider_for(microsoft_fake).generate(ask())

    assert len(microsoft_fake.token_requests) == 1
    assert len(microsoft_fake.graph_requests) == 4
    assert len({request.credential for request in microsoft_fake.graph_requests}) == 1


def test_a_cached_token_close_to_expiry_is_refreshed_once(microsoft_fake):
    provider = provider_for(microsoft_fake)
    provider.generate(ask())
    age_cached_tokens(provider, seconds_left=120)  # msal renews tokens with under 5 minutes left

    provider.generate(ask())

    assert len(microsoft_fake.token_requests) == 2  # one renewal, then the new token is cached again
    first_create, first_chat, second_create, second_chat = microsoft_fake.graph_requests
    assert first_create.credential == first_chat.credential != second_create.credential == second_chat.credential


def test_tokens_issued_with_a_short_life_are_never_reused(microsoft_fake):
    microsoft_fake.token_lifetime = 200  # already inside msal's five-minute margin

    provider_for(microsoft_fake).generate(ask())

    assert len(microsoft_fake.token_requests) == 2  # one per Graph call


def test_a_token_graph_refuses_is_dropped_and_replaced_on_the_next_call(microsoft_fake):
    provider = provider_for(microsoft_fake)
    provider.generate(ask())
    microsoft_fake.expire_tokens()  # revoked behind msal's back

    with pytest.raises(AuthenticationFailed, match=r"HTTP 401.*expired"):
        provider.generate(ask())
    provider.generate(ask())

    assert len(microsoft_fake.token_requests) == 2
    assert microsoft_fake.graph_requests[-1].credential in microsoft_fake.tokens


def test_a_changed_secret_gets_its_own_token_cache(microsoft_fake):
    provider_for(microsoft_fake).generate(ask())

    with pytest.raises(AuthenticationFailed):
        provider_for(microsoft_fake, api_key="another~secret~value~1234").generate(ask())
    assert len(microsoft_fake.token_requests) == 2


# ---- TLS and configuration --------------------------------------------------------------------------------------
def test_the_fake_authority_is_only_trusted_with_its_ca(microsoft_fake, settings):
    settings.EGRESS_CA_BUNDLE = ""  # falls back to REQUESTS_CA_BUNDLE / certifi

    with pytest.raises(ProviderUnavailable, match=r"TLS certificate of 127\.0\.0\.1:\d+ is not trusted"):
        CopilotProvider(microsoft_fake.provider_settings()).generate(ask())


def test_a_plain_http_authority_is_refused(microsoft_fake):
    settings = microsoft_fake.provider_settings(extra={"authority_host": "http://login.example.test"})

    with pytest.raises(Misconfigured, match="must be an https address"):
        CopilotProvider(settings).generate(ask())
    assert microsoft_fake.requests == []


def test_a_missing_ca_bundle_is_misconfigured_without_naming_the_path(microsoft_fake, settings):
    settings.EGRESS_CA_BUNDLE = "/nonexistent/ca.pem"

    with pytest.raises(Misconfigured, match="EGRESS_CA_BUNDLE names a file that does not exist") as refusal:
        CopilotProvider(microsoft_fake.provider_settings()).test_connection()
    assert "/nonexistent" not in str(refusal.value)



def test_missing_ids_and_secret_are_listed():
    with pytest.raises(Misconfigured, match="tenant id, client id, client secret"):
        CopilotProvider(ProviderSettings()).generate(ask())


def test_a_wrong_secret_is_authentication_failed_without_the_secret(microsoft_fake):
    wrong = "wrong~secret~0123456789"

    with pytest.raises(AuthenticationFailed, match="AADSTS7000215: Invalid client secret provided") as caught:
        provider_for(microsoft_fake, api_key=wrong).generate(ask())

    assert wrong not in str(caught.value) and "Trace ID" not in str(caught.value)
    assert microsoft_fake.graph_requests == []


def test_an_unknown_tenant_is_misconfigured(microsoft_fake):
    settings = microsoft_fake.provider_settings(extra={"tenant_id": "not-our-tenant"})

    with pytest.raises(Misconfigured, match="does not know the tenant 'not-our-tenant'"):
        CopilotProvider(settings).generate(ask())


def test_an_unknown_client_id_is_misconfigured(microsoft_fake):
    settings = microsoft_fake.provider_settings(extra={"client_id": "00000000-0000-0000-0000-00000000dead"})

    with pytest.raises(Misconfigured, match="AADSTS700016"):
        CopilotProvider(settings).generate(ask())


# ---- Graph and token-endpoint failures: one request each, readable messages -----------------------------------
def test_graph_429_is_rate_limited_with_retry_after(microsoft_fake):
    microsoft_fake.enqueue_rate_limit(retry_after=30, path="/chat")

    with pytest.raises(RateLimited, match="Microsoft Graph is rate limiting") as caught:
        provider_for(microsoft_fake).generate(ask())

    assert caught.value.retry_after == 30.0
    assert len(microsoft_fake.requests_to("/chat")) == 1


def test_graph_500_is_unavailable(microsoft_fake):
    microsoft_fake.enqueue_error(500, "Something failed in Copilot.", path="/copilot/conversations")

    with pytest.raises(ProviderUnavailable, match=r"HTTP 500.*Something failed in Copilot.*request id"):
        provider_for(microsoft_fake).generate(ask())
    assert len(microsoft_fake.graph_requests) == 1


def test_graph_403_on_copilot_explains_the_licence_and_permission_model(microsoft_fake):
    microsoft_fake.enqueue_error(403, "Access denied. " + "Details " * 80, path="/copilot/")

    with pytest.raises(AuthenticationFailed, match=r"HTTP 403.*Access denied.*licence.*delegated.*token\.$"):
        provider_for(microsoft_fake).generate(ask())


def test_a_slow_chat_times_out_within_the_configured_timeout(microsoft_fake):
    microsoft_fake.enqueue_slow(5, path="/chat")
    provider = provider_for(microsoft_fake, timeout_seconds=1.0)
    provider.access_token()  # warm msal so only the Graph calls count
    started = time.monotonic()

    with pytest.raises(ProviderTimeout, match="Microsoft Graph did not answer within 1 s"):
        provider.generate(ask())

    assert time.monotonic() - started < 2.0
    assert len(microsoft_fake.requests_to("/chat")) == 1


def test_a_slow_token_endpoint_times_out(microsoft_fake):
    microsoft_fake.enqueue_slow(5, path="/token")
    started = time.monotonic()

    with pytest.raises(ProviderTimeout, match=r"Microsoft Entra ID did not answer within 0\.5 s"):
        provider_for(microsoft_fake, timeout_seconds=0.5).generate(ask())

    assert time.monotonic() - started < 2.0


def test_token_endpoint_500_is_unavailable(microsoft_fake):
    microsoft_fake.enqueue_error(500, path="/token")

    with pytest.raises(ProviderUnavailable, match="Microsoft Entra ID"):
        provider_for(microsoft_fake).generate(ask())
    assert len(microsoft_fake.token_requests) == 1
    assert microsoft_fake.graph_requests == []


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (lambda fake: fake.enqueue(200, b"{not json", path="/chat"), "was not JSON"),
        (lambda fake: fake.enqueue(200, [1, 2], path="/chat"), "was not a JSON object"),
        (lambda fake: fake.enqueue_empty(), "without an answer"),
        (lambda fake: fake.enqueue(201, {"state": "active"}, path="/copilot/conversations"), "had no id"),
        (
            lambda fake: fake.enqueue(
                200, conversation_body("c1", "q", "a", 1) | {"state": "disengagedForRai"}, path="/chat"
            ),
            "responsible-AI filter",
        ),
    ],
    ids=["truncated-json", "not-an-object", "no-messages", "no-conversation-id", "disengaged"],
)
def test_unusable_graph_answers_are_bad_responses(microsoft_fake, script, words):
    provider = provider_for(microsoft_fake)
    provider.access_token()
    script(microsoft_fake)

    with pytest.raises(BadResponse, match=words):
        provider.generate(ask())
