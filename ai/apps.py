from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "AI"

    def ready(self) -> None:
        from core import crypto

        from .copilot_connection import TOKEN_CACHE_PURPOSE
        from .models import ProviderConfig

        crypto.encrypted_field_register(ProviderConfig, "api_key_encrypted", purpose=crypto.PROVIDER_KEY_PURPOSE)
        crypto.encrypted_field_register(ProviderConfig, "oauth_token_cache_encrypted", purpose=TOKEN_CACHE_PURPOSE)
