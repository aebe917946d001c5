"""Without Redis the AI app keeps answering: the project's cache falls back to the database (core.cache), so answers
are still cached and settings changes still invalidate them; a failing provider still falls back."""

from __future__ import annotations

import json
import socket

import pytest

from ai import facade, services
from ai.models import AIRun
from ai.providers.base import AuthenticationFailed
from ai.tests.factories import ProviderConfigFactory
from ai.tests.scripted import local_stub_fixture, scripted_fixture  # noqa: F401 (fixtures)
from core.models import CacheFallbackEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_stub")]

TEXT = "The export to CSV fails with error 500 since the last update. Other exports work."


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings) -> None:
    default = settings.CACHES["default"]
    settings.CACHES = {"default": default | {"LOCATION": f"redis://127.0.0.1:{_closed_port()}/0"}}


def summary(text: str) -> str:
    return json.dumps({"summary": text, "keywords": ["export"]})


def test_calls_are_answered_recorded_and_cached_in_the_database_while_redis_is_down(redis_down, scripted):
    ProviderConfigFactory(provider="scripted")
    scripted.script(summary("first"), summary("second"))

    first = facade.summarize(TEXT)
    second = facade.summarize(TEXT)

    assert (first.text, second.text) == ("first", "first")
    assert second.meta.cached and len(scripted.requests) == 1
    runs = AIRun.objects.filter(feature="summarize", provider="scripted").order_by("pk")
    assert list(runs.values_list("cached", flat=True)) == [False, True]  # both recorded, the second a cache hit
    assert CacheFallbackEntry.objects.filter(key__startswith="t_alpha:").exists()  # core.cache's database fallback


def test_settings_changed_while_redis_is_down_apply_to_the_next_call(redis_down, scripted):
    config = ProviderConfigFactory(provider="scripted")
    scripted.script(summary("from the provider"))
    assert facade.summarize(TEXT).meta.provider == "scripted"

    services.provider_config_update(config=config, enabled=False)

    assert facade.summarize(TEXT).meta.provider == "local"


def test_a_failing_provider_still_falls_back_while_redis_is_down(redis_down, scripted):
    ProviderConfigFactory(provider="scripted")
    scripted.script(*[AuthenticationFailed("invalid key")] * 3)

    result = facade.summarize(TEXT)

    assert result.meta.provider == "local" and result.meta.fallback_from == ("scripted",)
