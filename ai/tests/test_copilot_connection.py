"""Connecting Microsoft 365 for Copilot from the AI settings: the admin's sign-in end to end against the TLS fake of
Entra ID (authorize redirect, code at the token endpoint), the encrypted token cache, refresh, revoked and missing
consent in words (settings page, connection test, run log), and callbacks that must not complete a sign-in."""

from __future__ import annotations

import json
import time

import msal
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from ai import facade, services
from ai.copilot_connection import SESSION_KEY, TOKEN_CACHE_PURPOSE, DatabaseTokenStore, copilot_disconnect
from ai.models import AIRun, ProviderConfig
from ai.providers.base import Misconfigured, ProviderSettings
from ai.providers.copilot_provider import NOT_CONNECTED, CopilotProvider
from ai.tests.factories import ProviderConfigFactory
from ai.tests.fakes.microsoft_fake import MS_CLIENT_SECRET, MS_TENANT_ID, MS_USER
from core import crypto

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CALLBACK = "/settings/ai/microsoft/callback/"


@pytest.fixture
def admin(login):
    return login("admin", name="Grace Hopper")


@pytest.fixture
def copilot(microsoft_fake) -> ProviderConfig:
    settings = microsoft_fake.provider_settings()
    return ProviderConfigFactory(
        provider="copilot", label="Copilot", model="", api_key=MS_CLIENT_SECRET, extra=settings.extra, timeout_seconds=2
    )


def start(client, config) -> str:
    """Presses "Connect Microsoft 365" (htmx) and returns where the browser is sent."""
    response = client.post(reverse("ai:copilot_connect", args=[config.pk]), **HTMX)
    assert response.status_code == 200, response.content
    return response["HX-Redirect"]


def connect(client, config, fake) -> dict[str, str]:
    """The whole sign-in: connect, Microsoft's authorize page, the callback. Returns the callback's query."""
    answer = fake.browse(start(client, config))
    response = client.get(reverse("ai:copilot_callback"), answer)
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"].endswith(f"#provider-row-{config.pk}")
    return answer


def provider_of(config: ProviderConfig) -> CopilotProvider:
    """The provider as the orchestrator builds it: no token store given, so it finds the stored grant itself."""
    settings = ProviderSettings(
        api_key=crypto.decrypt(config.api_key_encrypted), timeout_seconds=2, extra=dict(config.extra)
    )
    return CopilotProvider(settings)


def age_stored_tokens(config: ProviderConfig, seconds_left: int) -> None:
    config.refresh_from_db()
    cache = msal.SerializableTokenCache()
    cache.deserialize(crypto.decrypt(config.oauth_token_cache_encrypted, purpose=TOKEN_CACHE_PURPOSE))
    kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
    for entry in list(cache.search(kind)):
        cache.modify(kind, entry, {"expires_on": str(int(time.time()) + seconds_left)})
    encrypted = crypto.encrypt(cache.serialize(), purpose=TOKEN_CACHE_PURPOSE)
    ProviderConfig.objects.filter(pk=config.pk).update(oauth_token_cache_encrypted=encrypted)


def ask_copilot(config: ProviderConfig):
    from ai.providers.base import GenerateRequest, Message

    return provider_of(config).generate(GenerateRequest(messages=(Message("user", "Hello"),)))


# --- Connect ------------------------------------------------------------------------------------------------


def test_connect_runs_the_auth_code_flow_on_the_workspace_host_and_shows_who_when_and_scopes(
    client, admin, copilot, microsoft_fake
):
    auth_uri = start(client, copilot)

    assert auth_uri.startswith(f"{microsoft_fake.origin}/{MS_TENANT_ID}/oauth2/v2.0/authorize?")
    answer = microsoft_fake.browse(auth_uri)
    authorize = microsoft_fake.authorize_requests[0].query
    assert authorize["redirect_uri"] == f"http://{client.defaults['HTTP_HOST']}{CALLBACK}"  # this workspace's host
    assert client.get(reverse("ai:copilot_callback"), answer).status_code == 302

    (token,) = microsoft_fake.token_requests
    assert token.body["grant_type"] == "authorization_code" and token.body["code"] == answer["code"]
    copilot.refresh_from_db()
    assert copilot.oauth_connection["status"] == "connected"
    assert copilot.oauth_connection["account"] == MS_USER["preferred_username"]
    assert copilot.oauth_connection["connected_by"] == "Grace Hopper"
    assert SESSION_KEY not in client.session  # a code is redeemed once
    html = client.get(reverse("ai:settings")).content.decode()
    assert "Microsoft 365 connected" in html and MS_USER["preferred_username"] in html and "by Grace Hopper" in html
    assert "Scopes (7)" in html and "ChannelMessage.Read.All" in html and "Disconnect" in html


def test_the_token_cache_is_stored_encrypted_never_in_plain_text(client, admin, copilot, microsoft_fake):
    connect(client, copilot, microsoft_fake)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT oauth_token_cache_encrypted, oauth_connection::text FROM ai_providerconfig WHERE id = %s",
            [copilot.pk],
        )
        stored, metadata = cursor.fetchone()
    (refresh_token,) = microsoft_fake.refresh_tokens
    (access_token,) = microsoft_fake.tokens
    for secret in (refresh_token, access_token, "RefreshToken", "AccessToken", MS_USER["oid"]):
        assert secret not in stored and secret not in metadata
    cache = json.loads(crypto.decrypt(stored, purpose=TOKEN_CACHE_PURPOSE))
    assert refresh_token in json.dumps(cache["RefreshToken"])
    with pytest.raises(crypto.DecryptionFailed):  # the token cache has its own key, not the API keys'
        crypto.decrypt(stored)


def test_the_stored_grant_is_used_and_refreshed_without_flushing_the_ai_cache(client, admin, copilot, microsoft_fake):
    connect(client, copilot, microsoft_fake)
    assert ask_copilot(copilot).text.startswith("Echo: Hello")
    age_stored_tokens(copilot, seconds_left=60)
    before = ProviderConfig.objects.get(pk=copilot.pk)

    ask_copilot(copilot)

    grants = [request.body["grant_type"] for request in microsoft_fake.token_requests]
    assert grants == ["authorization_code", "refresh_token"]
    after = ProviderConfig.objects.get(pk=copilot.pk)
    assert after.oauth_token_cache_encrypted != before.oauth_token_cache_encrypted  # the rotated refresh token
    assert after.updated == before.updated  # update(), not save(): no settings change, no AI cache flush
    (live,) = microsoft_fake.refresh_tokens
    assert live in crypto.decrypt(after.oauth_token_cache_encrypted, purpose=TOKEN_CACHE_PURPOSE)


# --- Missing and revoked consent, in words ----------------------------------------------------------------


def test_never_connected_is_said_in_the_connection_test_and_the_run_log(copilot, microsoft_fake):
    result = services.provider_config_test(config=copilot)

    assert not result.ok and result.message == NOT_CONNECTED
    run = AIRun.objects.get(pk=facade.summarize("The printer on floor 3 is jammed again.").meta.run_id)
    assert "Microsoft 365 is not connected: an admin must connect it in AI settings" in run.error_message
    assert microsoft_fake.requests == []


def test_revoked_consent_marks_the_stored_grant_and_the_page_says_to_reconnect(client, admin, copilot, microsoft_fake):
    connect(client, copilot, microsoft_fake)
    microsoft_fake.revoke_consent()
    age_stored_tokens(copilot, seconds_left=0)

    with pytest.raises(
        Misconfigured, match=r"consent was revoked or has expired.*AADSTS50173.*connect Microsoft 365 again"
    ):
        ask_copilot(copilot)

    copilot.refresh_from_db()
    assert copilot.oauth_connection["status"] == "revoked" and copilot.oauth_token_cache_encrypted == ""
    assert copilot.oauth_connection["problem"] == "invalid_grant, AADSTS50173"
    tested = services.provider_config_test(config=copilot)
    assert "consent was revoked or has expired" in tested.message and "connect Microsoft 365 again" in tested.message
    html = client.get(reverse("ai:settings")).content.decode()
    assert "Consent revoked or expired" in html and "Connect Microsoft 365" in html
    assert f"http://{client.defaults['HTTP_HOST']}{CALLBACK}" in html  # the redirect URI to register


def test_reconnecting_after_revocation_works_again(client, admin, copilot, microsoft_fake):
    connect(client, copilot, microsoft_fake)
    microsoft_fake.revoke_consent()
    age_stored_tokens(copilot, seconds_left=0)
    with pytest.raises(Misconfigured):
        ask_copilot(copilot)

    connect(client, copilot, microsoft_fake)

    assert ask_copilot(copilot).text.startswith("Echo:")


def test_disconnect_forgets_the_tokens(client, admin, copilot, microsoft_fake):
    connect(client, copilot, microsoft_fake)

    response = client.post(reverse("ai:copilot_disconnect", args=[copilot.pk]), **HTMX)

    assert response.status_code == 200 and "Microsoft 365 not connected" in response.content.decode()
    copilot.refresh_from_db()
    assert copilot.oauth_token_cache_encrypted == "" and copilot.oauth_connection == {}
    with pytest.raises(Misconfigured, match="not connected"):
        ask_copilot(copilot)


def test_a_declined_consent_is_a_400_in_words(client, admin, copilot, microsoft_fake):
    microsoft_fake.consent_denied = True
    answer = microsoft_fake.browse(start(client, copilot))

    response = client.get(reverse("ai:copilot_callback"), answer)

    assert response.status_code == 400
    assert (
        "Microsoft 365 was not connected. Microsoft 365 did not grant access (access_denied)"
        in response.content.decode()
    )
    copilot.refresh_from_db()
    assert copilot.oauth_connection == {}


# --- Callbacks that must not complete a sign-in -------------------------------------------------------------


def test_a_callback_with_another_state_is_refused_and_redeems_nothing(client, admin, copilot, microsoft_fake):
    answer = microsoft_fake.browse(start(client, copilot))

    response = client.get(reverse("ai:copilot_callback"), answer | {"state": "forged-state"})

    assert response.status_code == 400
    assert "does not belong to the sign-in this browser started" in response.content.decode()
    assert microsoft_fake.token_requests == []
    copilot.refresh_from_db()
    assert copilot.oauth_connection == {}


def test_a_callback_without_a_started_sign_in_is_refused(client, admin, copilot, microsoft_fake):
    response = client.get(reverse("ai:copilot_callback"), {"code": "0.stolen", "state": "whatever"})

    assert response.status_code == 400
    assert "No Microsoft 365 sign-in was started from this workspace in this browser" in response.content.decode()
    assert microsoft_fake.token_requests == []


def test_a_callback_finished_by_another_admin_is_forbidden(client, admin, login, copilot, microsoft_fake):
    answer = microsoft_fake.browse(start(client, copilot))
    pending = client.session[SESSION_KEY]
    login("admin")  # someone else signs in on this browser and replays the answer with the same flow
    session = client.session
    session[SESSION_KEY] = pending
    session.save()

    response = client.get(reverse("ai:copilot_callback"), answer)

    assert response.status_code == 403
    assert "Only the admin who started this Microsoft 365 sign-in can finish it" in response.content.decode()
    assert microsoft_fake.token_requests == []


def test_a_sign_in_started_in_another_workspace_is_refused(client, admin, copilot, microsoft_fake):
    answer = microsoft_fake.browse(start(client, copilot))
    session = client.session
    session[SESSION_KEY] = session[SESSION_KEY] | {"schema": "beta"}
    session.save()

    response = client.get(reverse("ai:copilot_callback"), answer)

    assert response.status_code == 400
    assert "started in another workspace" in response.content.decode()
    assert microsoft_fake.token_requests == []


def test_the_answer_delivered_to_another_workspace_is_refused_there(
    client, admin, copilot, microsoft_fake, other_tenant, make_user
):
    answer = microsoft_fake.browse(start(client, copilot))
    beta = Client(HTTP_HOST=other_tenant.get_primary_domain().domain)
    with tenant_context(other_tenant):  # users and sessions live in each workspace's own schema
        beta.force_login(make_user("admin"))

    response = beta.get(CALLBACK, answer)

    assert response.status_code == 400
    assert "No Microsoft 365 sign-in was started from this workspace" in response.content.decode()
    assert microsoft_fake.token_requests == []


def test_without_javascript_connect_offers_a_link_to_microsoft(client, admin, copilot, microsoft_fake):
    response = client.post(reverse("ai:copilot_connect", args=[copilot.pk]))

    assert response.status_code == 200
    assert f'href="{microsoft_fake.origin}/{MS_TENANT_ID}/oauth2/v2.0/authorize?' in response.content.decode()
    assert client.session[SESSION_KEY]["config_id"] == copilot.pk


def test_connect_is_only_for_copilot_rows(client, admin):
    openai = ProviderConfigFactory(provider="openai")

    response = client.post(reverse("ai:copilot_connect", args=[openai.pk]), follow=True)

    assert "does not sign in with a Microsoft account: only Copilot does" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert client.post(reverse("ai:copilot_connect", args=[987654])).status_code == 404


def test_the_grant_is_found_in_the_current_workspace_only(client, admin, copilot, microsoft_fake, other_tenant):
    connect(client, copilot, microsoft_fake)
    store = DatabaseTokenStore(tenant_id=copilot.extra["tenant_id"], client_id=copilot.extra["client_id"])

    assert store.load() is not None
    with tenant_context(other_tenant):
        assert store.load() is None


def test_disconnect_service_is_idempotent(copilot):
    copilot_disconnect(config=copilot)
    copilot_disconnect(config=copilot)

    copilot.refresh_from_db()
    assert copilot.oauth_connection == {}
