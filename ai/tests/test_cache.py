"""The response cache: hits on identical requests, invalidation on every change, one cache per workspace."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from ai import cache as ai_cache
from ai import facade, services
from ai.models import AIRun
from ai.tests.factories import ProviderConfigFactory
from ai.tests.scripted import local_stub_fixture, scripted_fixture  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_stub")]

TEXT = "The export to CSV fails with error 500 since the last update. Other exports work."


def summary(text: str = "CSV export fails.") -> str:
    return json.dumps({"summary": text, "keywords": ["export"]})


@pytest.fixture
def config(scripted):
    return ProviderConfigFactory(provider="scripted")


def test_the_second_identical_call_is_answered_from_the_cache(config, scripted):
    scripted.script(summary())

    first = facade.summarize(TEXT)
    second = facade.summarize(TEXT)

    assert len(scripted.requests) == 1
    assert (second.text, second.keywords) == (first.text, first.keywords)
    assert not first.meta.cached and second.meta.cached
    assert second.meta.provider == "scripted" and second.meta.prompt_version == "system:v1"
    hit = AIRun.objects.get(pk=second.meta.run_id)
    assert hit.cached and (hit.input_tokens, hit.output_tokens, hit.cost_usd) == (0, 0, 0)


def test_whitespace_does_not_matter_but_words_do(config, scripted):
    scripted.script(summary(), summary("Other."))
    facade.summarize(TEXT)

    assert facade.summarize(f"  {TEXT.replace(' ', '   ')}\n").meta.cached
    assert not facade.summarize(TEXT + " Urgent.").meta.cached


def test_options_are_part_of_the_key(config, scripted):
    facade.summarize(TEXT, max_sentences=2)

    assert not facade.summarize(TEXT, max_sentences=3).meta.cached
    assert facade.summarize(TEXT, max_sentences=2).meta.cached


def test_local_answers_are_cached_too(local_stub):
    facade.classify(TEXT, ["bug", "billing"])
    result = facade.classify(TEXT, ["bug", "billing"])

    assert result.meta.cached and result.meta.provider == "local"
    assert len(local_stub.calls) == 1


def test_invalidate_cache_forgets_everything(config, scripted):
    facade.summarize(TEXT)
    facade.sentiment(TEXT)

    facade.invalidate_cache()

    assert not facade.summarize(TEXT).meta.cached
    assert not facade.sentiment(TEXT).meta.cached


def test_invalidating_one_feature_keeps_the_others(config, scripted):
    facade.summarize(TEXT)
    facade.sentiment(TEXT)

    facade.invalidate_cache("summarize")

    assert not facade.summarize(TEXT).meta.cached
    assert facade.sentiment(TEXT).meta.cached


def test_a_new_prompt_version_misses_the_cache_and_is_recorded(config, scripted):
    facade.summarize(TEXT)

    services.prompt_override_save(
        feature="summarize", text="[system]\nSummarise in $max_sentences sentences, as JSON.\n[user]\n$text"
    )
    result = facade.summarize(TEXT)

    assert not result.meta.cached and result.meta.prompt_version == "tenant:v1"
    assert len(scripted.requests) == 2


def test_a_provider_change_misses_the_cache(config, scripted):
    facade.summarize(TEXT)

    services.provider_config_update(config=config, model="gpt-4o")
    result = facade.summarize(TEXT)

    assert not result.meta.cached and scripted.requests[-1] is not None
    assert scripted.settings_seen[-1].model == "gpt-4o"


@pytest.mark.parametrize(
    "change",
    [
        lambda config: services.ai_policy_update(max_input_chars=10_000),
        lambda config: services.feature_route_set(feature="classify", provider_config_ids=[config.pk]),
        lambda config: services.provider_config_update(config=config, api_key="sk-new-key-0000000000000"),
    ],
    ids=["policy", "route", "api-key"],
)
def test_any_settings_change_invalidates_the_cache(config, scripted, change):
    facade.summarize(TEXT)

    change(config)

    assert not facade.summarize(TEXT).meta.cached


def test_a_connection_test_does_not_invalidate_the_cache(config, scripted):
    facade.summarize(TEXT)

    services.provider_config_test(config=config)

    assert facade.summarize(TEXT).meta.cached


def test_a_zero_ttl_turns_caching_off(config, scripted):
    services.ai_policy_update(cache_ttl_seconds=0)

    facade.summarize(TEXT)

    assert not facade.summarize(TEXT).meta.cached


def test_each_workspace_has_its_own_cache(config, scripted, other_tenant):
    facade.summarize(TEXT)

    with tenant_context(other_tenant):
        ProviderConfigFactory(provider="scripted")
        beta = facade.summarize(TEXT)
        assert not beta.meta.cached
        assert facade.summarize(TEXT).meta.cached
        facade.invalidate_cache()

    assert facade.summarize(TEXT).meta.cached  # beta's invalidation left alpha's entries alone
    assert len(scripted.requests) == 2


def test_keys_are_prefixed_with_the_schema_by_the_cache_itself(tenant, other_tenant):
    key = ai_cache.result_key(
        feature="summarize", provider="openai", model="gpt-4o-mini", prompt_version="system:v1", payload={"t": TEXT}
    )

    assert cache.make_key(key).startswith(f"{tenant.schema_name}:")
    with tenant_context(other_tenant):
        assert cache.make_key(key).startswith(f"{other_tenant.schema_name}:")


def test_the_key_covers_feature_provider_model_prompt_version_and_input():
    base = {
        "feature": "summarize",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "prompt_version": "system:v1",
        "payload": {"text": TEXT},
    }
    variants = [
        {"feature": "summarize_ticket"},
        {"provider": "anthropic"},
        {"model": "gpt-4o"},
        {"prompt_version": "tenant:v1"},
        {"payload": {"text": TEXT + "!"}},
    ]

    keys = {ai_cache.result_key(**base | variant) for variant in variants}

    assert len(keys | {ai_cache.result_key(**base)}) == len(variants) + 1


def test_an_entry_of_an_older_generation_is_not_served(db):
    key = ai_cache.result_key(feature="f", provider="local", model="m", prompt_version="", payload={"t": TEXT})
    current, _ = ai_cache.read("f")
    ai_cache.put(key, {"answer": 1}, current, 60)
    assert ai_cache.get(key, current) == {"answer": 1}

    ai_cache.invalidate("f")
    newer, prefetched = ai_cache.read("f", key)

    assert key in prefetched and ai_cache.get(key, newer, prefetched) is None


def test_a_cache_hit_costs_one_cache_round_trip_and_one_insert(config, scripted, django_assert_num_queries):
    facade.summarize(TEXT)
    calls = []
    original = cache.get_many

    def counting_get_many(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    cache.get_many, cache_get = counting_get_many, cache.get
    cache.get = lambda *args, **kwargs: calls.append(args) or cache_get(*args, **kwargs)
    try:
        with django_assert_num_queries(1):
            assert facade.summarize(TEXT).meta.cached
    finally:
        cache.get_many, cache.get = original, cache_get
    assert len(calls) == 1
