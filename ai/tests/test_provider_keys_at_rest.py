"""API keys at rest: encrypted with keys derived from the deployment's secrets, rotatable, never shown back."""

from __future__ import annotations

import pytest
from django.db import connection

from ai import services
from ai.copilot_connection import TOKEN_CACHE_PURPOSE
from ai.models import ProviderConfig
from ai.tests.factories import ProviderConfigFactory
from core import crypto
from core.deployment import DEV_SECRET_KEY

KEY = "sk-proj-Very-Secret-0123456789abcdef"


def test_a_secret_round_trips_and_the_token_does_not_contain_it():
    token = crypto.encrypt(KEY)

    assert KEY not in token and token != crypto.encrypt(KEY)  # random IV: no two tokens alike
    assert crypto.decrypt(token) == KEY
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_keys_are_derived_per_purpose():
    token = crypto.encrypt(KEY, purpose="ai.provider-api-key")

    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(token, purpose="something-else")


def test_the_hint_shows_only_the_last_four_characters():
    assert crypto.key_hint(KEY) == "…cdef"
    assert crypto.key_hint("short") == "…"
    assert crypto.key_hint("") == ""


def test_without_dedicated_keys_the_secret_key_is_used(settings, monkeypatch):
    settings.AI_ENCRYPTION_KEYS = None
    monkeypatch.delenv("AI_ENCRYPTION_KEYS", raising=False)
    settings.SECRET_KEY = "this-deployment-own-secret-key-0123456789abcdefghij"
    token = crypto.encrypt(KEY)

    settings.SECRET_KEY = "another-deployment-secret-key-0123456789abcdef"
    with pytest.raises(crypto.DecryptionFailed, match="Enter the API key again"):
        crypto.decrypt(token)


def test_the_published_development_secret_key_never_encrypts_provider_keys(settings, monkeypatch):
    settings.AI_ENCRYPTION_KEYS = None
    monkeypatch.delenv("AI_ENCRYPTION_KEYS", raising=False)
    settings.SECRET_KEY = DEV_SECRET_KEY

    with pytest.raises(crypto.EncryptionKeyMissing, match="set AI_ENCRYPTION_KEYS"):
        crypto.encrypt(KEY)


def test_the_published_development_key_is_refused_in_ai_encryption_keys_too(settings):
    settings.AI_ENCRYPTION_KEYS = [DEV_SECRET_KEY]

    with pytest.raises(crypto.EncryptionKeyMissing):
        crypto.encrypt(KEY)


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_secret(settings):
    settings.AI_ENCRYPTION_KEYS = ["old-secret-0123456789"]
    old_token = crypto.encrypt(KEY)

    settings.AI_ENCRYPTION_KEYS = ["new-secret-9876543210", "old-secret-0123456789"]
    assert crypto.decrypt(old_token) == KEY
    rotated = crypto.rotate(old_token)

    settings.AI_ENCRYPTION_KEYS = ["new-secret-9876543210"]
    assert crypto.decrypt(rotated) == KEY
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(old_token)


def test_the_environment_variable_is_a_comma_separated_list(settings, monkeypatch):
    settings.AI_ENCRYPTION_KEYS = None
    monkeypatch.setenv("AI_ENCRYPTION_KEYS", "first-secret-000000, second-secret-111111")
    token = crypto.encrypt(KEY)

    settings.AI_ENCRYPTION_KEYS = ["first-secret-000000"]
    assert crypto.decrypt(token) == KEY


@pytest.mark.django_db
def test_the_database_never_holds_the_key():
    config = services.provider_config_create(provider="openai", label="Production", api_key=f"  {KEY}  ")

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ai_providerconfig WHERE id = %s", [config.pk])
        row = cursor.fetchone()
    assert not any(KEY in str(value) for value in row)
    assert config.api_key_hint == "…cdef"
    assert crypto.decrypt(ProviderConfig.objects.get(pk=config.pk).api_key_encrypted) == KEY


@pytest.mark.django_db
def test_stored_keys_and_copilot_tokens_are_reencrypted_with_the_newest_secret(settings):
    settings.AI_ENCRYPTION_KEYS = ["old-secret-0123456789"]
    config = ProviderConfigFactory(api_key=KEY)
    config.oauth_token_cache_encrypted = crypto.encrypt('{"RefreshToken": {}}', purpose=TOKEN_CACHE_PURPOSE)
    config.save()
    ProviderConfigFactory(api_key_encrypted="", api_key_hint="")

    settings.AI_ENCRYPTION_KEYS = ["new-secret-9876543210", "old-secret-0123456789"]
    assert crypto.encrypted_fields_rotate() == 2

    settings.AI_ENCRYPTION_KEYS = ["new-secret-9876543210"]
    config.refresh_from_db()
    assert crypto.decrypt(config.api_key_encrypted) == KEY
    assert "RefreshToken" in crypto.decrypt(config.oauth_token_cache_encrypted, purpose=TOKEN_CACHE_PURPOSE)


@pytest.mark.django_db
def test_the_workspace_admin_never_shows_the_key(client, login):
    login("owner", is_staff=True)
    config = services.provider_config_create(provider="openai", label="Production", api_key=KEY)

    change_page = client.get(f"/admin/ai/providerconfig/{config.pk}/change/")
    list_page = client.get("/admin/ai/providerconfig/")

    assert change_page.status_code == 200 and list_page.status_code == 200
    for page in (change_page, list_page):
        html = page.content.decode()
        assert KEY not in html and config.api_key_encrypted not in html
    assert "…cdef" in list_page.content.decode()
