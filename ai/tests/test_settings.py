"""A workspace's AI settings: provider configurations, connection tests, routes, policy, and their admin pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ai import services
from ai.models import AIPolicy, FeatureRoute, ProviderConfig
from ai.providers.base import AuthenticationFailed
from ai.selectors import ai_policy_get, provider_config_list
from ai.tests.factories import ProviderConfigFactory
from ai.tests.scripted import scripted_fixture  # noqa: F401 (fixtures)
from core import crypto

pytestmark = pytest.mark.django_db

KEY = "sk-live-abcdefghijklmnop1234"


# --- Provider configurations --------------------------------------------------------------------


def test_creating_a_provider_stores_the_key_encrypted_with_a_hint():
    config = services.provider_config_create(
        provider="anthropic", model="claude-3-5-haiku-latest", api_key=KEY, monthly_budget_usd="25.50"
    )

    assert config.label == "Anthropic Claude"  # the registry's name when none is given
    assert config.api_key_hint == "…1234" and crypto.decrypt(config.api_key_encrypted) == KEY
    assert config.monthly_budget_usd == Decimal("25.50")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"provider": "skynet"}, "provider", "Choose one of"),
        ({"provider": "anthropic"}, "api_key", "Anthropic Claude needs an API key"),
        ({"provider": "openai", "api_key": KEY, "base_url": "ftp://x"}, "base_url", "full http:// or https://"),
        (
            {"provider": "openai", "api_key": KEY, "monthly_budget_usd": "-5"},
            "monthly_budget_usd",
            "cannot be negative",
        ),
        ({"provider": "openai", "api_key": KEY, "monthly_budget_usd": "lots"}, "monthly_budget_usd", "US dollars"),
        ({"provider": "openai", "api_key": KEY, "timeout_seconds": 0}, "timeout_seconds", "greater than or equal"),
        ({"provider": "openai", "api_key": KEY, "extra": ["x"]}, "extra", "JSON object"),
    ],
)
def test_invalid_settings_are_refused_field_by_field(values, field, message):
    with pytest.raises(ValidationError) as raised:
        services.provider_config_create(**values)

    assert message in " ".join(raised.value.message_dict[field])
    assert not ProviderConfig.objects.exists()


def test_an_openai_compatible_server_may_go_without_a_key():
    config = services.provider_config_create(provider="openai", base_url="http://127.0.0.1:11434/v1", model="llama3.1")

    assert not config.has_api_key


def test_updating_without_a_key_keeps_the_stored_one_and_clearing_removes_it():
    config = services.provider_config_create(provider="openai", api_key=KEY, base_url="http://ollama.local:11434/v1")

    services.provider_config_update(config=config, label="Renamed", api_key="")
    config.refresh_from_db()
    assert config.label == "Renamed" and crypto.decrypt(config.api_key_encrypted) == KEY

    services.provider_config_update(config=config, clear_api_key=True)
    config.refresh_from_db()
    assert (config.api_key_encrypted, config.api_key_hint) == ("", "")


def test_a_changed_connection_forgets_the_last_test_result():
    config = ProviderConfigFactory(last_test_status="ok", last_test_message="Connected")

    services.provider_config_update(config=config, priority=5)
    assert config.last_test_status == "ok"
    services.provider_config_update(config=config, model="gpt-4o")
    assert (config.last_test_status, config.last_test_message) == ("", "")


def test_unknown_fields_are_a_programming_error():
    with pytest.raises(TypeError, match="no field"):
        services.provider_config_create(provider="openai", api_key=KEY, colour="blue")


def test_deleting_a_provider_takes_it_out_of_every_route():
    kept, deleted = ProviderConfigFactory(), ProviderConfigFactory()
    services.feature_route_set(feature="rewrite", provider_config_ids=[deleted.pk, kept.pk])

    services.provider_config_delete(config=deleted)

    assert FeatureRoute.objects.get(feature="rewrite").provider_config_ids == [kept.pk]


def test_providers_are_listed_by_priority():
    late, early = ProviderConfigFactory(priority=50), ProviderConfigFactory(priority=5)

    assert list(provider_config_list()) == [early, late]


# --- Connection tests ---------------------------------------------------------------------------


def test_a_successful_connection_test_is_stored(scripted):
    config = ProviderConfigFactory(provider="scripted", model="gpt-4o")

    result = services.provider_config_test(config=config)

    assert result.ok and result.message == "Connected to scripted: model 'gpt-4o' is available."
    config.refresh_from_db()
    assert (config.last_test_status, config.last_test_at) == ("ok", result.tested_at)


def test_a_failed_connection_test_shows_a_readable_message_without_the_key(scripted):
    config = ProviderConfigFactory(provider="scripted", api_key=KEY)
    scripted.script(AuthenticationFailed(f"Incorrect API key provided: {KEY}"))

    result = services.provider_config_test(config=config)

    # A category in our words: what the endpoint said (here with the key in it) is never shown.
    assert not result.ok and result.message == "Reached, authentication failed: check the API key and its permissions."
    assert ProviderConfig.objects.get(pk=config.pk).last_test_status == "failed"


def test_an_unexpected_error_in_a_connection_test_is_a_message_not_a_500(scripted):
    config = ProviderConfigFactory(provider="scripted")
    scripted.script(ZeroDivisionError("boom"))

    result = services.provider_config_test(config=config)

    assert not result.ok and "Unexpected error while connecting (ZeroDivisionError)" in result.message


def test_a_provider_that_is_not_installed_is_reported():
    config = ProviderConfigFactory()
    ProviderConfig.objects.filter(pk=config.pk).update(provider="retired-vendor")
    config.refresh_from_db()

    result = services.provider_config_test(config=config)

    assert not result.ok and "Unknown AI provider 'retired-vendor'" in result.message


def test_the_local_provider_reports_its_models():
    result = services.local_provider_test()

    assert result.ok and result.message


# --- Routes and policy --------------------------------------------------------------------------


def test_a_route_keeps_the_order_given_without_duplicates():
    first, second = ProviderConfigFactory(), ProviderConfigFactory()

    route = services.feature_route_set(feature=" rewrite ", provider_config_ids=[second.pk, first.pk, second.pk])

    assert (route.feature, route.provider_config_ids) == ("rewrite", [second.pk, first.pk])
    services.feature_route_set(feature="rewrite", provider_config_ids=[first.pk])
    assert FeatureRoute.objects.get().provider_config_ids == [first.pk]


def test_a_route_to_a_deleted_provider_is_refused():
    with pytest.raises(ValidationError) as raised:
        services.feature_route_set(feature="rewrite", provider_config_ids=[987654])

    assert "no longer exist" in raised.value.message_dict["provider_config_ids"][0]


def test_policy_changes_are_kept_as_history(make_user):
    admin = make_user("admin")
    assert ai_policy_get().allow_external_providers  # the default, without any row

    services.ai_policy_update(actor=admin, allow_external_providers=False)
    services.ai_policy_update(actor=admin, max_input_chars=5_000)

    current = ai_policy_get()
    assert (current.allow_external_providers, current.max_input_chars, current.changed_by) == (False, 5_000, admin)
    assert AIPolicy.objects.count() == 2


def test_an_absurd_input_limit_is_refused():
    with pytest.raises(ValidationError) as raised:
        services.ai_policy_update(max_input_chars=10)

    assert "max_input_chars" in raised.value.message_dict


# --- Workspace admin ----------------------------------------------------------------------------


def test_an_admin_adds_a_provider_through_the_service(client, login):
    login("owner", is_staff=True)

    response = client.post(
        "/admin/ai/providerconfig/add/",
        {
            "provider": "openai",
            "label": "OpenAI production",
            "model": "gpt-4o-mini",
            "base_url": "",
            "priority": 10,
            "enabled": "on",
            "timeout_seconds": 30,
            "monthly_budget_usd": "",
            "extra": "{}",
            "api_key": KEY,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    config = ProviderConfig.objects.get()
    assert crypto.decrypt(config.api_key_encrypted) == KEY and config.label == "OpenAI production"


def test_the_admin_shows_service_validation_errors(client, login):
    login("owner", is_staff=True)

    response = client.post(
        "/admin/ai/providerconfig/add/",
        {"provider": "anthropic", "label": "Claude", "priority": 10, "timeout_seconds": 30, "extra": "{}"},
    )

    assert response.status_code == 200 and "Anthropic Claude needs an API key" in response.content.decode()
    assert not ProviderConfig.objects.exists()


def test_agents_cannot_open_the_ai_admin(client, login):
    login("agent")

    response = client.get("/admin/ai/providerconfig/")

    assert response.status_code in {302, 403}


def test_an_admin_saves_a_prompt_version_through_the_service(client, login):
    from ai.models import PromptOverride

    owner = login("owner", is_staff=True)
    text = "[system]\nSummarise in $max_sentences sentences, JSON only.\n[user]\n$text"

    saved = client.post("/admin/ai/promptoverride/add/", {"feature": "summarize", "text": text, "active": "on"})
    refused = client.post(
        "/admin/ai/promptoverride/add/", {"feature": "summarize", "text": "[system]\n$x\n[user]\n$text"}
    )

    assert saved.status_code == 302
    override = PromptOverride.objects.get()
    assert (override.version, override.active, override.author) == (1, True, owner)
    assert refused.status_code == 200 and "Unknown placeholder(s) $x" in refused.content.decode()
