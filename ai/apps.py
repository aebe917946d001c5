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

        # Insights' rollups follow runs and the feedback on them (ai.contracts.runs_changed).
        from core.changes import changes_watch

        from .contracts import runs_changed
        from .models import AIFeedback, AIRun

        changes_watch(AIRun, runs_changed, fields=("status", "cost_usd", "provider", "feature"))
        changes_watch(AIFeedback, runs_changed, fields=("outcome", "edit_distance"), id_of=lambda row: row.run_id)
