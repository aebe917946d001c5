"""AI providers and the egress guard: an address inside the server's network is refused when it is saved and when it is
called, and "Test connection" reports a category, never what the endpoint answered.

The fake vendors listen on 127.0.0.1: tests that should reach them keep the test settings' EGRESS_ALLOW_LOOPBACK;
`no_loopback` turns it off, which is the production default.
"""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ai import facade, services
from ai.models import AIRun, ProviderConfig
from ai.providers.anthropic_provider import AnthropicProvider
from ai.providers.base import EgressBlocked, GenerateRequest, Message
from ai.providers.copilot_provider import CopilotProvider
from ai.providers.google_provider import GoogleProvider
from ai.providers.openai_provider import OpenAIProvider
from ai.tests.factories import ProviderConfigFactory

pytestmark = pytest.mark.django_db

BANNER = "internal-admin-console build 7f3a"  # what an internal service would say; must never come back
LOOPBACK_REFUSAL = (
    "This address points to this server itself (loopback) (127.0.0.1); Switchboard does not connect there."
)
HELLO = GenerateRequest(messages=(Message("user", "Hello"),), max_output_tokens=20)


@pytest.fixture
def no_loopback(settings) -> None:
    settings.EGRESS_ALLOW_LOOPBACK = False


def create_config(fake, provider: str = "openai", **overrides):
    values = {
        "provider": provider,
        "label": f"Fake {provider}",
        "model": fake.models[0] if hasattr(fake, "models") else "",
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "timeout_seconds": 2,
    }
    return services.provider_config_create(**(values | overrides))


def test_time(config) -> str:
    result = services.provider_config_test(config=config)
    config.refresh_from_db()
    assert result.message == config.last_test_message
    return result.message


test_time.__test__ = False  # a helper, not a test


# --- Saving --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://127.0.0.1:11434/v1", LOOPBACK_REFUSAL),
        ("http://localhost:11434/v1", "localhost points to this server itself (loopback); Switchboard does not"),
        ("http://10.0.0.5:8000/v1", "This address points inside a private network (10.0.0.5)"),
        ("http://169.254.169.254/latest/", "to a cloud metadata service"),
        ("http://metadata.google.internal/v1", "to a cloud metadata service"),
    ],
)
def test_an_internal_base_url_is_refused_when_saved(no_loopback, base_url, message):
    with pytest.raises(ValidationError) as refused:
        services.provider_config_create(provider="openai", base_url=base_url, api_key="sk-test-0000000000000000")

    assert message in refused.value.message_dict["base_url"][0]


def test_the_settings_form_shows_the_refusal_on_the_base_url_field(client, login, no_loopback, openai_fake):
    login("admin")
    data = {
        "provider": "openai",
        "label": "Ollama",
        "model": "llama3.2",
        "api_key": "",
        "base_url": openai_fake.base_url,
        "priority": "10",
        "enabled": "on",
        "timeout_seconds": "30",
    }

    response = client.post(reverse("ai:provider_create"), data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal-body")

    html = response.content.decode()
    assert response.status_code == 200 and "is-invalid" in html
    assert "points to this server itself (loopback)" in html
    assert not ProviderConfig.objects.filter(label="Ollama").exists()
    assert openai_fake.requests == []


def test_https_is_required_when_saving_in_production(settings):
    settings.EGRESS_REQUIRE_HTTPS = True

    with pytest.raises(ValidationError) as refused:
        services.provider_config_create(provider="openai", base_url="http://8.8.8.8/v1", api_key="sk-0000000000000")

    assert refused.value.message_dict["base_url"] == [
        "Use an https:// address: Switchboard does not send workspace data over plain http."
    ]


def test_copilot_addresses_proxies_and_ca_files_in_extra_are_checked_too(no_loopback):
    extra = {
        "tenant_id": "contoso",
        "client_id": "app",
        "authority_host": "https://127.0.0.1:8443",
        "graph_base_url": "https://graph.microsoft.com",
        "proxy": "http://10.0.0.3:3128",
        "ca_bundle": "/etc/ssl/private/server.pem",
    }

    with pytest.raises(ValidationError) as refused:
        services.provider_config_create(provider="copilot", api_key="secret-0000", extra=extra)

    messages = refused.value.message_dict["extra"]
    assert any("proxy cannot be set per workspace" in message for message in messages)
    assert any("Certificate authorities cannot be set per workspace" in message for message in messages)
    assert any(message.startswith("authority_host: This address points to this server itself") for message in messages)
    assert not any("graph_base_url" in message for message in messages)


# --- Calling -------------------------------------------------------------------------------------


def test_a_stored_provider_pointed_inside_is_refused_at_call_time_and_falls_back(openai_fake, no_loopback):
    # Saved while loopback was allowed (or before the guard existed); the guard still refuses every call.
    ProviderConfigFactory(provider="openai", base_url=openai_fake.base_url, api_key="sk-test-0000000000000000")

    result = facade.summarize("The printer on floor 3 is jammed again. It has been broken since Monday.")

    run = AIRun.objects.get(pk=result.meta.run_id)
    assert result.meta.is_local
    assert run.error_class == "EgressBlocked"
    assert "points to this server itself (loopback)" in run.error_message  # (the run log masks the address)
    assert openai_fake.requests == []


@pytest.mark.parametrize("vendor", ["openai", "anthropic", "google"])
def test_every_sdk_provider_is_refused_before_connecting(request, vendor, no_loopback):
    fake = request.getfixturevalue(f"{vendor}_fake")
    provider = {"openai": OpenAIProvider, "anthropic": AnthropicProvider, "google": GoogleProvider}[vendor]

    with pytest.raises(EgressBlocked, match=r"loopback\) \(127\.0\.0\.1\)"):
        provider(fake.provider_settings()).generate(HELLO)

    assert fake.requests == []


def test_copilot_sign_in_is_refused_before_connecting(microsoft_fake, no_loopback):
    with pytest.raises(EgressBlocked, match="loopback"):
        CopilotProvider(microsoft_fake.provider_settings()).start_sign_in("https://alpha.example.test/callback/")

    assert microsoft_fake.requests == []


def test_copilot_graph_calls_are_refused_before_connecting(microsoft_fake, settings):
    provider = microsoft_fake.connected_provider()  # signed in while loopback was allowed
    settings.EGRESS_ALLOW_LOOPBACK = False
    signed_in = len(microsoft_fake.requests)

    with pytest.raises(EgressBlocked, match="loopback"):
        provider.generate(HELLO)

    assert len(microsoft_fake.requests) == signed_in


def test_copilot_reaches_its_fake_through_the_guard_when_loopback_is_allowed(microsoft_fake):
    response = microsoft_fake.connected_provider().generate(HELLO)

    assert response.text and microsoft_fake.token_requests and microsoft_fake.graph_requests


def test_the_run_log_keeps_a_vendor_json_message_but_never_a_raw_body(openai_fake):
    create_config(openai_fake)
    openai_fake.enqueue(400, f"<html><body>{BANNER}</body></html>", {"content-type": "text/html"})
    openai_fake.enqueue_error(400, "Unsupported parameter: 'max_tokens'.")

    first = AIRun.objects.get(pk=facade.summarize("The printer on floor 3 is jammed again.").meta.run_id)
    second = AIRun.objects.get(pk=facade.summarize("The scanner on floor 2 is broken too.").meta.run_id)

    assert BANNER not in first.error_message and "HTTP 400" in first.error_message
    assert "Unsupported parameter: 'max_tokens'." in second.error_message


# --- Test connection: categories ------------------------------------------------------------------


def test_a_working_provider_is_connected(openai_fake):
    assert test_time(create_config(openai_fake)) == "Connected to the OpenAI-compatible endpoint " + (
        f"127.0.0.1:{openai_fake.port}: model '{openai_fake.models[0]}' is available."
    )


@pytest.mark.parametrize("vendor", ["openai", "anthropic", "google"])
def test_a_wrong_key_is_reached_authentication_failed(request, vendor):
    fake = request.getfixturevalue(f"{vendor}_fake")
    config = create_config(fake, vendor)
    fake.enqueue_error(401 if vendor != "google" else 403, f"Invalid key sk-abc…xyz. {BANNER}")

    message = test_time(config)

    assert message.startswith("Reached, authentication failed (HTTP 40")
    assert BANNER not in message and "sk-abc" not in message


@pytest.mark.parametrize("vendor", ["openai", "anthropic", "google"])
def test_a_server_error_is_reached_unexpected_answer_without_its_body(request, vendor):
    fake = request.getfixturevalue(f"{vendor}_fake")
    config = create_config(fake, vendor)
    fake.enqueue(503, f"<html><h1>{BANNER}</h1></html>", {"content-type": "text/html"})

    assert test_time(config) == "Reached, unexpected answer (HTTP 503)."


def test_a_model_the_endpoint_does_not_list_is_reached_not_offered(openai_fake):
    config = create_config(openai_fake, model="gpt-9")

    assert test_time(config) == ("Reached, the model 'gpt-9' is not offered there: check the model and the base URL.")


def test_an_unknown_model_answered_with_404_is_reached_not_offered(anthropic_fake):
    config = create_config(anthropic_fake, "anthropic", model="claude-nope")

    assert test_time(config) == (
        "Reached, the model 'claude-nope' is not offered there (HTTP 404): check the model and the base URL."
    )


def test_a_closed_port_is_could_not_connect():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ProviderConfigFactory(provider="openai", base_url=f"http://127.0.0.1:{port}/v1", model="gpt-4o-mini")

    assert test_time(config) == (
        "Could not connect: check the base URL, and that the service is running and reachable."
    )


def test_a_slow_endpoint_is_timed_out(openai_fake):
    config = create_config(openai_fake, timeout_seconds=1)
    openai_fake.enqueue_slow(10)  # well past the timeout: the fake is woken up when the test stops it

    assert test_time(config) == "Timed out: no answer within 1 s."


def test_an_internal_endpoint_is_refused_by_the_egress_policy_without_connecting(openai_fake, no_loopback):
    config = ProviderConfigFactory(provider="openai", base_url=openai_fake.base_url, model="gpt-4o-mini")

    assert test_time(config) == f"Refused by the egress policy: {LOOPBACK_REFUSAL}"
    assert openai_fake.requests == []


def test_open_and_closed_internal_ports_look_the_same(openai_fake, no_loopback):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    open_port = ProviderConfigFactory(provider="openai", base_url=openai_fake.base_url, model="m")
    closed_port = ProviderConfigFactory(provider="openai", base_url=f"http://127.0.0.1:{closed}/v1", model="m")

    assert test_time(open_port) == test_time(closed_port) == f"Refused by the egress policy: {LOOPBACK_REFUSAL}"
