"""The workspace AI settings page: policy, providers (keys, connection tests, budgets), feature routing, who may."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ai import cache as ai_cache
from ai import facade, services
from ai.models import AIPolicy, FeatureRoute, ProviderConfig
from ai.tests.factories import AIRunFactory, FeatureRouteFactory, ProviderConfigFactory
from ai.tests.scripted import local_stub_fixture, scripted_fixture  # noqa: F401 (fixtures)
from core import crypto

pytestmark = pytest.mark.django_db

KEY = "sk-live-views-abcdefghijklmnop9876"
HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str = "modal-body") -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target}


def url(name: str, *args) -> str:
    return reverse(f"ai:{name}", args=args)


def provider_data(**overrides) -> dict:
    data = {
        "provider": "openai",
        "label": "OpenAI production",
        "model": "gpt-4o-mini",
        "api_key": KEY,
        "base_url": "",
        "priority": "10",
        "enabled": "on",
        "timeout_seconds": "30",
        "monthly_budget_usd": "",
        "api_version": "",
        "tenant_id": "",
        "client_id": "",
        "extra_json": "",
    }
    return {key: value for key, value in (data | overrides).items() if value is not None}


@pytest.fixture
def admin(login):
    return login("admin")


# --- The page and who may see it ----------------------------------------------------------------


def test_the_page_shows_policy_providers_local_provider_and_routing(client, admin):
    ProviderConfigFactory(label="Claude for drafts", provider="anthropic", model="claude-3-5-haiku-latest")

    response = client.get(url("settings"))

    html = response.content.decode()
    assert response.status_code == 200
    for section in ('id="ai-policy"', 'id="provider-table"', 'id="feature-routes"', 'id="local-provider-row"'):
        assert section in html
    assert "Claude for drafts" in html and "claude-3-5-haiku-latest" in html
    assert "Local (offline)" in html and "Always available, no key, nothing leaves the workspace" in html
    assert "Allow external providers" in html and "Clear AI cache" in html
    assert 'data-sb-shortcut="n"' in html
    for feature in ("classify", "summarize", "rewrite", "embed", "reply_draft"):
        assert f'id="route-{feature}"' in html
    assert "json_repair" not in html  # the orchestrator's own prompt is not a feature
    assert "Vectors are only comparable when one model makes them all" in html


def test_owners_may_use_the_page_too(client, login):
    login("owner")

    assert client.get(url("settings")).status_code == 200


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_are_refused(client, login, role):
    login(role)
    config = ProviderConfigFactory()

    assert client.get(url("settings")).status_code == 403
    assert client.post(url("provider_create"), provider_data()).status_code == 403
    assert client.post(url("provider_test", config.pk)).status_code == 403
    assert client.post(url("policy_save"), {"max_input_chars": 500, "cache_ttl_seconds": 0}).status_code == 403
    assert not ProviderConfig.objects.filter(label="OpenAI production").exists()
    assert not AIPolicy.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(url("settings"))

    assert response.status_code == 302 and "login" in response["Location"]


def test_an_unknown_provider_id_is_not_found(client, admin):
    assert client.get(url("provider_update", 987654)).status_code == 404
    assert client.post(url("provider_test", 987654), **HTMX).status_code == 404


def test_the_page_costs_the_same_queries_with_more_providers(client, admin):
    ProviderConfigFactory()
    client.get(url("settings"))  # sums each provider's month once; later reads come from the cache
    with CaptureQueriesContext(connection) as one:
        client.get(url("settings"))
    ProviderConfigFactory(), ProviderConfigFactory()
    client.get(url("settings"))
    with CaptureQueriesContext(connection) as three:
        client.get(url("settings"))

    assert len(three) == len(one)


# --- Adding, editing, deleting providers (modals) -----------------------------------------------


def test_the_add_form_opens_as_a_modal_with_a_password_field(client, admin):
    response = client.get(url("provider_create"), **htmx())

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'type="password" name="api_key"' in html and 'autocomplete="new-password"' in html
    assert "Azure OpenAI" in html and "Ollama" in html and "vLLM" in html  # base URL help
    assert 'name="tenant_id"' in html and 'name="api_version"' in html


def test_adding_a_provider_stores_the_key_encrypted_and_never_shows_it(client, admin):
    response = client.post(url("provider_create"), provider_data(monthly_budget_usd="25"), **htmx())

    assert response.status_code == 200
    assert response["HX-Trigger"] == "modal:close" and response["HX-Reswap"] == "none"
    config = ProviderConfig.objects.get()
    assert crypto.decrypt(config.api_key_encrypted) == KEY and KEY not in config.api_key_encrypted
    assert (config.label, config.model, config.monthly_budget_usd) == ("OpenAI production", "gpt-4o-mini", 25)
    html = response.content.decode()
    assert '<section id="provider-table"' in html and 'hx-swap-oob="true"' in html and "OpenAI production" in html
    assert "Added OpenAI production" in html  # the toast
    for page in (
        html,
        client.get(url("settings")).content.decode(),
        client.get(url("provider_update", config.pk), **htmx()).content.decode(),
    ):
        assert KEY not in page and KEY[:-4] not in page
    assert "•••• 9876" in client.get(url("settings")).content.decode()


def test_adding_without_javascript_redirects_to_the_page(client, admin):
    response = client.post(url("provider_create"), provider_data())

    config = ProviderConfig.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{url('settings')}#provider-row-{config.pk}"


def test_azure_and_copilot_settings_go_into_extra(client, admin):
    azure = provider_data(
        label="Azure",
        base_url="https://acme.openai.azure.com",
        azure="on",
        api_version="2024-10-21",
        extra_json='{"embedding_model": "embeddings-deployment"}',
    )
    copilot = provider_data(provider="copilot", label="Copilot", tenant_id="tenant-1", client_id="client-1")

    client.post(url("provider_create"), azure, **htmx())
    client.post(url("provider_create"), copilot, **htmx())

    extras = dict(ProviderConfig.objects.values_list("label", "extra"))
    assert extras["Azure"] == {"azure": True, "api_version": "2024-10-21", "embedding_model": "embeddings-deployment"}
    assert extras["Copilot"] == {"tenant_id": "tenant-1", "client_id": "client-1"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"provider": "anthropic", "api_key": ""}, "api_key", "Anthropic Claude needs an API key"),  # service
        ({"base_url": "ftp://files.example.com"}, "base_url", "full http:// or https://"),  # service
        ({"monthly_budget_usd": "-5"}, "monthly_budget_usd", "greater than or equal to 0"),  # form
        ({"timeout_seconds": "0"}, "timeout_seconds", "greater than or equal to 1"),
        ({"provider": "skynet"}, "provider", "Select a valid choice"),
        ({"extra_json": "[1, 2]"}, "extra_json", "Enter a JSON object"),
        ({"extra_json": "{nope"}, "extra_json", "not valid JSON"),
        ({"azure": "on", "base_url": "https://acme.openai.azure.com"}, "api_version", "needs an API version"),
        ({"provider": "copilot", "client_id": "client-1"}, "tenant_id", "needs your Microsoft Entra tenant id"),
    ],
)
def test_invalid_input_comes_back_on_the_form_field(client, admin, data, field, message):
    response = client.post(url("provider_create"), provider_data(**data), **htmx())

    html = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert message in html and f'id="id_{field}_error"' in html
    assert 'aria-invalid="true"' in html
    assert KEY not in html  # a refused form does not echo the key either
    assert not ProviderConfig.objects.exists()


def test_invalid_input_without_javascript_is_the_form_page(client, admin):
    response = client.post(url("provider_create"), provider_data(provider="anthropic", api_key=""))

    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and "Anthropic Claude needs an API key" in html


def test_editing_with_a_blank_key_keeps_the_stored_one(client, admin):
    config = services.provider_config_create(provider="openai", label="Old name", api_key=KEY)

    form = client.get(url("provider_update", config.pk), **htmx()).content.decode()
    response = client.post(url("provider_update", config.pk), provider_data(label="New name", api_key=""), **htmx())

    assert "A key ending …9876 is stored" in form and 'value="Old name"' in form and KEY not in form
    assert response["HX-Trigger"] == "modal:close"
    config.refresh_from_db()
    assert config.label == "New name" and crypto.decrypt(config.api_key_encrypted) == KEY


def test_editing_replaces_or_removes_the_key(client, admin):
    config = services.provider_config_create(provider="openai", base_url="http://ollama.local:11434/v1", api_key=KEY)
    data = provider_data(base_url="http://ollama.local:11434/v1")

    client.post(url("provider_update", config.pk), data | {"api_key": "sk-new-key-0000000000001111"}, **htmx())
    config.refresh_from_db()
    assert crypto.decrypt(config.api_key_encrypted) == "sk-new-key-0000000000001111"

    client.post(url("provider_update", config.pk), data | {"api_key": "", "clear_api_key": "on"}, **htmx())
    config.refresh_from_db()
    assert (config.api_key_encrypted, config.api_key_hint) == ("", "")


def test_a_refused_edit_changes_nothing(client, admin):
    config = ProviderConfigFactory(label="Kept")

    response = client.post(url("provider_update", config.pk), provider_data(label="   ", api_key=""), **htmx())

    assert response.status_code == 200 and "Give this provider a name" in response.content.decode()
    config.refresh_from_db()
    assert config.label == "Kept"


def test_deleting_asks_first_then_removes_the_provider_from_routes(client, admin):
    kept, deleted = ProviderConfigFactory(label="Kept"), ProviderConfigFactory(label="Going")
    services.feature_route_set(feature="rewrite", provider_config_ids=[deleted.pk, kept.pk])

    confirm = client.get(url("provider_delete", deleted.pk), **htmx())
    response = client.post(url("provider_delete", deleted.pk), **htmx())

    assert "Delete Going?" in confirm.content.decode() and ProviderConfig.objects.count() == 1
    assert response["HX-Trigger"] == "modal:close"
    html = response.content.decode()
    assert f'id="provider-row-{kept.pk}"' in html and f'id="provider-row-{deleted.pk}"' not in html
    assert FeatureRoute.objects.get(feature="rewrite").provider_config_ids == [kept.pk]


def test_switching_a_provider_off_and_on(client, admin):
    config = ProviderConfigFactory(label="Switchable")

    off = client.post(url("provider_enabled", config.pk), {}, **HTMX)
    config.refresh_from_db()
    assert not config.enabled
    assert '<section id="provider-table"' in off.content.decode() and "Switchable is off" in off.content.decode()

    client.post(url("provider_enabled", config.pk), {"enabled": "on"})
    config.refresh_from_db()
    assert config.enabled


# --- Connection tests ---------------------------------------------------------------------------


def test_testing_a_working_provider_shows_connected_in_its_row(client, admin, openai_fake):
    config = services.provider_config_create(
        provider="openai",
        label="Fake OpenAI",
        model="gpt-4o-mini",
        base_url=openai_fake.base_url,
        api_key=openai_fake.api_key,
        timeout_seconds=5,
    )

    response = client.post(url("provider_test", config.pk), **htmx(f"provider-row-{config.pk}"))

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="provider-row-{config.pk}"')
    assert "Connected" in html and "model &#x27;gpt-4o-mini&#x27; is available" in html
    config.refresh_from_db()
    assert config.last_test_status == "ok" and config.last_test_at is not None
    assert openai_fake.last.credential == openai_fake.api_key
    assert openai_fake.api_key not in html


def test_a_wrong_key_shows_a_readable_failure_and_is_recorded(client, admin, openai_fake):
    config = services.provider_config_create(
        provider="openai",
        label="Fake OpenAI",
        model="gpt-4o-mini",
        base_url=openai_fake.base_url,
        api_key=KEY,
        timeout_seconds=5,
    )

    response = client.post(url("provider_test", config.pk), **htmx(f"provider-row-{config.pk}"))

    html = response.content.decode()
    config.refresh_from_db()
    assert response.status_code == 200 and "Failed" in html
    assert config.last_test_status == "failed" and config.last_test_message in html.replace("&#x27;", "'")
    assert "key" in config.last_test_message.lower()
    assert KEY not in html and KEY not in config.last_test_message


def test_a_provider_that_cannot_be_built_is_a_message_not_a_500(client, admin):
    config = ProviderConfigFactory(label="Retired")
    ProviderConfig.objects.filter(pk=config.pk).update(provider="retired-vendor")

    response = client.post(url("provider_test", config.pk), **HTMX)
    page = client.get(url("settings"))
    edit = client.get(url("provider_update", config.pk), **htmx())

    switched = client.post(url("provider_enabled", config.pk), {}, **HTMX)

    assert response.status_code == 200 and "Unknown AI provider" in response.content.decode()
    assert page.status_code == 200 and "retired-vendor (not installed)" in page.content.decode()
    assert edit.status_code == 200 and "retired-vendor (no longer installed)" in edit.content.decode()
    assert switched.status_code == 200 and "Retired cannot be switched: Choose one of" in switched.content.decode()


def test_testing_without_javascript_reports_in_a_message(client, admin, openai_fake):
    config = services.provider_config_create(
        provider="openai", model="gpt-4o-mini", base_url=openai_fake.base_url, api_key=openai_fake.api_key
    )

    response = client.post(url("provider_test", config.pk), follow=True)

    assert response.redirect_chain[0][0] == f"{url('settings')}#provider-row-{config.pk}"
    assert "is available" in response.content.decode()


def test_the_local_provider_has_its_own_test(client, admin, local_stub):
    response = client.post(url("local_provider_test"), **htmx("local-provider-row"))

    html = response.content.decode()
    assert html.lstrip().startswith('<tr id="local-provider-row"')
    assert "Connected" in html and "Local models loaded." in html


# --- Budgets ------------------------------------------------------------------------------------


def test_the_budget_bar_shows_this_months_spend(client, admin):
    config = ProviderConfigFactory(label="Budgeted", monthly_budget_usd=Decimal("10"))
    AIRunFactory(provider_config=config, cost_usd=Decimal("4"))

    html = client.get(url("settings")).content.decode()

    assert "$4.00 of $10.00" in html and 'aria-valuenow="40"' in html and "bg-success" in html
    assert "runs go to the next provider" not in html


def test_a_spent_budget_is_red_and_says_what_happens(client, admin):
    config = ProviderConfigFactory(monthly_budget_usd=Decimal("5"))
    AIRunFactory(provider_config=config, cost_usd=Decimal("6.5"))

    html = client.get(url("settings")).content.decode()

    month = timezone.localdate().strftime("%B")
    assert f"Budget for {month} spent — runs go to the next provider" in html
    assert "bg-danger" in html and 'aria-valuenow="100"' in html


# --- Routing ------------------------------------------------------------------------------------


def test_saving_a_route_keeps_the_chosen_order(client, admin):
    first, second = ProviderConfigFactory(label="First"), ProviderConfigFactory(label="Second")

    response = client.post(
        url("route_save"),
        {"feature": "rewrite", "providers": [str(second.pk), "", str(first.pk)]},
        **htmx("feature-routes"),
    )

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="feature-routes"')
    assert FeatureRoute.objects.get(feature="rewrite").provider_config_ids == [second.pk, first.pk]
    assert "Second → First → Local" in html and "Saved the route of rewrite" in html


def test_the_route_selects_start_from_what_serves_the_feature_now(client, admin):
    on, off = ProviderConfigFactory(label="On", priority=1), ProviderConfigFactory(label="Off", enabled=False)

    html = client.get(url("settings")).content.decode()

    summarize = html.split('id="route-summarize"')[1].split("</li>")[0]
    embed = html.split('id="route-embed"')[1].split("</li>")[0]
    assert "Default" in summarize and "On → Local" in summarize and "Off →" not in summarize
    assert f'<option value="{on.pk}" selected>' in summarize and f'<option value="{off.pk}" selected>' not in summarize
    assert "Off (off)" in summarize  # still offered, marked
    assert " selected>" not in embed  # local-first: nothing external until an admin routes it


def test_a_route_without_providers_keeps_the_feature_local(client, admin):
    ProviderConfigFactory(label="Cloud")

    client.post(url("route_save"), {"feature": "summarize", "providers": [""]}, **htmx("feature-routes"))

    assert FeatureRoute.objects.get(feature="summarize").provider_config_ids == []


def test_resetting_a_route_brings_back_the_default(client, admin):
    config = ProviderConfigFactory(label="Cloud")
    FeatureRouteFactory(feature="summarize", provider_config_ids=[config.pk])

    response = client.post(url("route_reset"), {"feature": "summarize"}, **htmx("feature-routes"))

    assert not FeatureRoute.objects.filter(feature="summarize").exists()
    assert "summarize uses the default route again" in response.content.decode()


def test_a_route_to_a_missing_provider_is_refused_with_a_message(client, admin):
    response = client.post(url("route_save"), {"feature": "rewrite", "providers": ["987654"]}, **htmx("feature-routes"))
    garbage = client.post(url("route_save"), {"feature": "rewrite", "providers": ["abc"]}, **htmx("feature-routes"))

    assert response.status_code == 200 and "no longer exist" in response.content.decode()
    assert garbage.status_code == 200 and "Choose providers from the lists" in garbage.content.decode()
    assert not FeatureRoute.objects.exists()


def test_routing_without_javascript_redirects_back(client, admin):
    config = ProviderConfigFactory()

    response = client.post(url("route_save"), {"feature": "classify", "providers": [str(config.pk)]})

    assert response.status_code == 302 and response["Location"].endswith("#feature-routes")
    assert FeatureRoute.objects.get(feature="classify").provider_config_ids == [config.pk]


# --- Policy and cache ---------------------------------------------------------------------------


def test_turning_external_providers_off_makes_runs_local(client, admin, scripted, local_stub):
    ProviderConfigFactory(provider="scripted", label="Scripted cloud")
    text = "The customer cannot sign in. They tried twice."
    assert facade.summarize(text).meta.provider == "scripted"  # allowed: the external provider answers

    response = client.post(
        url("policy_save"), {"max_input_chars": "20000", "cache_ttl_seconds": "0"}, **htmx("ai-policy")
    )

    html = response.content.decode()
    policy = AIPolicy.objects.get()
    assert (policy.allow_external_providers, policy.changed_by) == (False, admin)
    assert html.lstrip().startswith('<section id="ai-policy"')
    assert "Nothing leaves the workspace" in html and 'data-testid="local-only-notice"' in html  # table, out of band
    calls_before = len(scripted.requests)
    result = facade.summarize(text + " Again.")
    assert result.meta.provider == "local" and len(scripted.requests) == calls_before


def test_the_policy_history_says_who_changed_what(client, admin):
    client.post(
        url("policy_save"), {"allow_external_providers": "on", "max_input_chars": "5000", "cache_ttl_seconds": "3600"}
    )

    html = client.get(url("settings")).content.decode()

    assert "Policy history" in html and admin.get_full_name() in html and "5,000 characters" in html
    assert "<td>1 hour</td>" in html


def test_an_invalid_policy_is_shown_with_its_errors(client, admin):
    response = client.post(
        url("policy_save"), {"max_input_chars": "10", "cache_ttl_seconds": "-1"}, **htmx("ai-policy")
    )

    html = response.content.decode()
    assert response.status_code == 200 and 'id="id_max_input_chars_error"' in html
    assert 'id="id_cache_ttl_seconds_error"' in html and not AIPolicy.objects.exists()


def test_clearing_the_cache_starts_a_new_generation(client, admin):
    before = ai_cache.generation("summarize")

    response = client.post(url("cache_clear"), **HTMX)

    assert response.status_code == 200 and "AI cache cleared" in response.content.decode()
    assert ai_cache.generation("summarize") != before
