"""CopilotProvider (msal delegated tokens + Microsoft Graph over requests) against the TLS fake of Entra ID and Graph.

The admin's sign-in is the real authorization-code flow against the fake (authorize redirect, code + PKCE
verifier at the token endpoint); the grant is kept in a MemoryTokenStore here (test_copilot_connection.py covers
the encrypted database store and the settings views).
"""

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
from ai.providers.copilot_provider import (
    DEFAULT_SCOPES,
    CopilotProvider,
    MemoryTokenStore,
    SignInRefused,
    StoredGrant,
    compose_prompt,
)
from ai.tests.fakes.microsoft_fake import (
    MS_CLIENT_ID,
    MS_CLIENT_SECRET,
    MS_TENANT_ID,
    MS_USER,
    REDIRECT_URI,
    conversation_body,
)


def ask(**fields) -> GenerateRequest:
    messages = (Message("system", "Answer as our support desk."), Message("user", "How do I reset my password?"))
    return GenerateRequest(messages=messages, **fields)


def provider_for(fake, **overrides) -> CopilotProvider:
    """A provider whose admin has signed in (the whole authorization-code flow against the fake)."""
    return fake.connected_provider(**overrides)


def age_cached_tokens(provider: CopilotProvider, *, seconds_left: int) -> None:
    """Makes the stored access tokens expire in `seconds_left` (msal renews those with under five minutes)."""
    store = provider.token_store
    cache = msal.SerializableTokenCache()
    cache.deserialize(store.grant.cache)
    kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
    for entry in list(cache.search(kind)):
        cache.modify(kind, entry, {"expires_on": str(int(time.time()) + seconds_left)})
    store.grant = StoredGrant(cache.serialize(), store.grant.client_key, store.grant.account)


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


def test_the_sign_in_is_the_authorization_code_flow_with_pkce_for_the_chat_api_scopes(microsoft_fake):
    provider = provider_for(microsoft_fake)

    authorize = microsoft_fake.authorize_requests[0]
    assert authorize.path == f"/{MS_TENANT_ID}/oauth2/v2.0/authorize"
    query = authorize.query
    assert (query["client_id"], query["response_type"], query["redirect_uri"]) == (MS_CLIENT_ID, "code", REDIRECT_URI)
    assert query["code_challenge_method"] == "S256" and query["state"] and query["nonce"]
    assert set(query["scope"].split()) == {*DEFAULT_SCOPES, "openid", "profile", "offline_access"}
    assert query["prompt"] == "select_account"
    assert "client_secret" not in query
    (token,) = microsoft_fake.token_requests
    assert token.body["grant_type"] == "authorization_code"
    assert token.body["redirect_uri"] == REDIRECT_URI and token.body["code_verifier"]
    assert token.body["client_secret"] == "[redacted]" and token.credential == MS_CLIENT_SECRET
    assert provider.token_store.grant.account == MS_USER["preferred_username"]
    assert not microsoft_fake.app_only_tokens  # no client-credentials token is ever asked for


def test_the_sign_in_reports_who_consented_to_which_scopes(microsoft_fake):
    provider = CopilotProvider(microsoft_fake.provider_settings(), token_store=MemoryTokenStore())
    flow = provider.start_sign_in(REDIRECT_URI)

    sign_in = provider.finish_sign_in(flow, microsoft_fake.browse(flow["auth_uri"]))

    assert (sign_in.account, sign_in.name) == (MS_USER["preferred_username"], MS_USER["name"])
    assert set(sign_in.scopes) == set(DEFAULT_SCOPES)
    assert sign_in.client_key == f"{microsoft_fake.origin}/{MS_TENANT_ID} {MS_CLIENT_ID}"
    assert json.loads(sign_in.cache)["RefreshToken"]


def test_scopes_can_be_configured(microsoft_fake):
    provider = CopilotProvider(microsoft_fake.provider_settings(extra={"scopes": "Chat.Read offline_access"}))

    flow = provider.start_sign_in(REDIRECT_URI)

    assert provider.scopes == ("Chat.Read",) and "Chat.Read" in flow["scope"] and "Mail.Read" not in flow["scope"]


def test_a_declined_consent_is_refused_in_words(microsoft_fake):
    microsoft_fake.consent_denied = True
    provider = CopilotProvider(microsoft_fake.provider_settings(), token_store=MemoryTokenStore())
    flow = provider.start_sign_in(REDIRECT_URI)

    with pytest.raises(SignInRefused, match=r"did not grant access \(access_denied\): AADSTS65004: User declined"):
        provider.finish_sign_in(flow, microsoft_fake.browse(flow["auth_uri"]))
    assert microsoft_fake.token_requests == []


def test_an_answer_for_another_sign_in_is_refused_before_any_token_request(microsoft_fake):
    provider = CopilotProvider(microsoft_fake.provider_settings(), token_store=MemoryTokenStore())
    mine, theirs = provider.start_sign_in(REDIRECT_URI), provider.start_sign_in(REDIRECT_URI)
    answer = microsoft_fake.browse(theirs["auth_uri"])

    with pytest.raises(SignInRefused, match="does not belong to the sign-in that was started"):
        provider.finish_sign_in(mine, answer)
    assert microsoft_fake.token_requests == []


def test_a_wrong_secret_fails_the_sign_in_without_the_secret(microsoft_fake):
    wrong = "wrong~secret~0123456789"
    provider = CopilotProvider(microsoft_fake.provider_settings(api_key=wrong), token_store=MemoryTokenStore())
    flow = provider.start_sign_in(REDIRECT_URI)

    with pytest.raises(AuthenticationFailed, match="AADSTS7000215: Invalid client secret provided") as caught:
        provider.finish_sign_in(flow, microsoft_fake.browse(flow["auth_uri"]))

    assert wrong not in str(caught.value) and "Trace ID" not in str(caught.value)


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
        CopilotProvider(microsoft_fake.provider_settings()).embed(["hello"])
    assert microsoft_fake.requests == []


def test_test_connection_opens_a_conversation_with_the_delegated_token(microsoft_fake):
    message = provider_for(microsoft_fake).test_connection()

    assert message == (
        f"Connected to Microsoft 365 Copilot as {MS_USER['preferred_username']}: "
        "the Copilot Chat API accepted the delegated token."
    )
    assert paths(microsoft_fake.graph_requests) == [("POST", "/beta/copilot/conversations")]


# ---- consent: missing, refreshed, revoked ---------------------------------------------------------------------
def test_never_connected_says_an_admin_must_connect_it_without_asking_microsoft(microsoft_fake):
    provider = CopilotProvider(microsoft_fake.provider_settings(), token_store=MemoryTokenStore())

    with pytest.raises(
        Misconfigured, match=r"^Microsoft 365 is not connected: an admin must connect it in AI settings"
    ):
        provider.generate(ask())
    assert microsoft_fake.requests == []


def test_a_second_call_reuses_the_stored_token_even_from_a_new_provider_object(microsoft_fake):
    provider = provider_for(microsoft_fake)
    provider.generate(ask())
    CopilotProvider(microsoft_fake.provider_settings(), token_store=provider.token_store).generate(ask())

    assert len(microsoft_fake.token_requests) == 1  # the sign-in's code redemption, nothing since
    assert len(microsoft_fake.graph_requests) == 4
    assert len({request.credential for request in microsoft_fake.graph_requests}) == 1


def test_an_expired_access_token_is_refreshed_with_the_refresh_token_and_stored(microsoft_fake):
    provider = provider_for(microsoft_fake)
    provider.generate(ask())
    age_cached_tokens(provider, seconds_left=120)  # msal renews tokens with under 5 minutes left
    saves = provider.token_store.saves

    provider.generate(ask())

    _sign_in, refresh = microsoft_fake.token_requests
    assert refresh.body["grant_type"] == "refresh_token" and refresh.body["refresh_token"].startswith("0.FakeRefresh")
    assert refresh.body["client_secret"] == "[redacted]"
    first_create, first_chat, second_create, second_chat = microsoft_fake.graph_requests
    assert first_create.credential == first_chat.credential != second_create.credential == second_chat.credential
    assert provider.token_store.saves == saves + 1  # the rotated refresh token and the new access token
    assert microsoft_fake.refresh_tokens and all(
        t in provider.token_store.grant.cache for t in microsoft_fake.refresh_tokens
    )


def test_tokens_issued_with_a_short_life_are_never_reused(microsoft_fake):
    microsoft_fake.token_lifetime = 200  # already inside msal's five-minute margin
    provider = provider_for(microsoft_fake)

    provider.generate(ask())

    assert [r.body["grant_type"] for r in microsoft_fake.token_requests] == ["authorization_code"] + [
        "refresh_token"
    ] * 2


def test_a_token_graph_refuses_is_dropped_and_replaced_on_the_next_call(microsoft_fake):
    provider = provider_for(microsoft_fake)
    provider.generate(ask())
    microsoft_fake.expire_tokens()  # refused by Graph behind msal's back

    with pytest.raises(AuthenticationFailed, match=r"HTTP 401.*expired"):
        provider.generate(ask())
    provider.generate(ask())

    assert [r.body["grant_type"] for r in microsoft_fake.token_requests] == ["authorization_code", "refresh_token"]
    assert microsoft_fake.graph_requests[-1].credential in microsoft_fake.tokens


def test_revoked_consent_is_said_in_words_and_the_grant_is_marked_so_microsoft_is_not_asked_again(microsoft_fake):
    provider = provider_for(microsoft_fake)
    provider.generate(ask())
    microsoft_fake.revoke_consent()
    age_cached_tokens(provider, seconds_left=0)
    expected = (
        r"^Microsoft 365 consent was revoked or has expired \(connected as ada\.admin@contoso\.example; "
        r"Microsoft said invalid_grant, AADSTS50173\): an admin must connect Microsoft 365 again in AI settings\.$"
    )

    with pytest.raises(Misconfigured, match=expected):
        provider.generate(ask())
    asked = len(microsoft_fake.requests)
    with pytest.raises(Misconfigured, match=expected):
        provider.generate(ask())

    assert microsoft_fake.token_requests[-1].body["grant_type"] == "refresh_token"
    assert len(microsoft_fake.requests) == asked  # the second call knew already
    grant = provider.token_store.grant
    assert grant.cache == "" and grant.revoked == "invalid_grant, AADSTS50173"


def test_a_wrong_secret_on_refresh_is_authentication_failed_and_keeps_the_grant(microsoft_fake):
    provider = provider_for(microsoft_fake)
    age_cached_tokens(provider, seconds_left=0)
    wrong = CopilotProvider(
        microsoft_fake.provider_settings(api_key="another~secret~value~1234"), token_store=provider.token_store
    )

    with pytest.raises(AuthenticationFailed, match="AADSTS7000215"):
        wrong.generate(ask())
    assert provider.token_store.grant.revoked == ""
    provider.generate(ask())  # the right secret still refreshes


def test_a_grant_for_another_app_registration_is_not_used(microsoft_fake):
    provider = provider_for(microsoft_fake)
    other = CopilotProvider(
        microsoft_fake.provider_settings(extra={"client_id": "00000000-0000-0000-0000-00000000dead"}),
        token_store=provider.token_store,
    )

    with pytest.raises(
        Misconfigured, match=r"connected for another app registration or tenant.*connect Microsoft 365 again"
    ):
        other.generate(ask())
    assert len(microsoft_fake.requests) == 3  # discovery, authorize, code redemption: the sign-in only


# ---- TLS and configuration --------------------------------------------------------------------------------------
def test_the_fake_authority_is_only_trusted_with_its_ca(microsoft_fake, settings):
    settings.EGRESS_CA_BUNDLE = ""  # falls back to REQUESTS_CA_BUNDLE / certifi

    with pytest.raises(ProviderUnavailable, match=r"TLS certificate of 127\.0\.0\.1:\d+ is not trusted"):
        CopilotProvider(microsoft_fake.provider_settings()).start_sign_in(REDIRECT_URI)


def test_a_plain_http_authority_is_refused(microsoft_fake):
    settings = microsoft_fake.provider_settings(extra={"authority_host": "http://login.example.test"})

    with pytest.raises(Misconfigured, match="must be an https address"):
        CopilotProvider(settings).start_sign_in(REDIRECT_URI)
    with pytest.raises(Misconfigured, match="must be an https address"):
        CopilotProvider(settings, token_store=MemoryTokenStore()).generate(ask())
    assert microsoft_fake.requests == []


def test_a_missing_ca_bundle_is_misconfigured_without_naming_the_path(microsoft_fake, settings):
    settings.EGRESS_CA_BUNDLE = "/nonexistent/ca.pem"

    with pytest.raises(Misconfigured, match="EGRESS_CA_BUNDLE names a file that does not exist") as refusal:
        CopilotProvider(microsoft_fake.provider_settings()).test_connection()
    assert "/nonexistent" not in str(refusal.value)


def test_missing_ids_and_secret_are_listed():
    with pytest.raises(Misconfigured, match="tenant id, client id, client secret"):
        CopilotProvider(ProviderSettings()).generate(ask())


def test_an_unknown_tenant_is_misconfigured(microsoft_fake):
    settings = microsoft_fake.provider_settings(extra={"tenant_id": "not-our-tenant"})

    with pytest.raises(Misconfigured, match="does not know the tenant 'not-our-tenant'"):
        CopilotProvider(settings).start_sign_in(REDIRECT_URI)


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

    with pytest.raises(AuthenticationFailed, match=r"HTTP 403.*Access denied.*licence.*delegated permissions\.$"):
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
    provider = provider_for(microsoft_fake, timeout_seconds=0.5)
    age_cached_tokens(provider, seconds_left=0)
    microsoft_fake.enqueue_slow(5, path="/token")
    started = time.monotonic()

    with pytest.raises(ProviderTimeout, match=r"Microsoft Entra ID did not answer within 0\.5 s"):
        provider.generate(ask())

    assert time.monotonic() - started < 2.0
    assert provider.token_store.grant.revoked == ""  # a timeout is no reason to give up the grant


def test_token_endpoint_500_is_unavailable(microsoft_fake):
    provider = provider_for(microsoft_fake)
    age_cached_tokens(provider, seconds_left=0)
    microsoft_fake.enqueue_error(500, path="/token")

    with pytest.raises(ProviderUnavailable, match="Microsoft Entra ID"):
        provider.generate(ask())
    assert microsoft_fake.graph_requests == []
    assert provider.token_store.grant.revoked == ""


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
