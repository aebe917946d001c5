"""Workspace AI pages under /settings/ai/: providers and routing, prompts, usage, trained models. Owners and admins
only."""

from django.urls import path

from .views import models, prompts, settings, usage

app_name = "ai"
urlpatterns = [
    # --- Providers, routing, policy (ai/views/settings.py) ---
    path("", settings.ai_settings, name="settings"),
    path("policy/", settings.ai_policy_save, name="policy_save"),
    path("cache/clear/", settings.ai_cache_clear, name="cache_clear"),
    path("providers/new/", settings.provider_create, name="provider_create"),
    path("providers/local/test/", settings.local_provider_test, name="local_provider_test"),
    path("providers/<int:config_id>/edit/", settings.provider_update, name="provider_update"),
    path("providers/<int:config_id>/enabled/", settings.provider_enabled, name="provider_enabled"),
    path("providers/<int:config_id>/test/", settings.provider_test, name="provider_test"),
    path("providers/<int:config_id>/delete/", settings.provider_delete, name="provider_delete"),
    path("providers/<int:config_id>/microsoft/connect/", settings.copilot_connect, name="copilot_connect"),
    path("providers/<int:config_id>/microsoft/disconnect/", settings.copilot_disconnect, name="copilot_disconnect"),
    path("microsoft/callback/", settings.copilot_callback, name="copilot_callback"),
    path("routes/", settings.feature_route_save, name="route_save"),
    path("routes/reset/", settings.feature_route_reset, name="route_reset"),
    # --- Prompts (ai/views/prompts.py) ---
    path("prompts/", prompts.prompt_list, name="prompt_list"),
    path("prompts/<str:feature>/", prompts.prompt_edit, name="prompt_edit"),
    path("prompts/<str:feature>/preview/", prompts.prompt_preview, name="prompt_preview"),
    path("prompts/<str:feature>/try/", prompts.prompt_try, name="prompt_try"),
    path("prompts/<str:feature>/reset/", prompts.prompt_reset, name="prompt_reset"),
    path("prompts/<str:feature>/versions/<int:version>/activate/", prompts.prompt_activate, name="prompt_activate"),
    # --- Usage and run log (ai/views/usage.py) ---
    path("usage/", usage.ai_usage, name="usage"),
    path("runs/", usage.run_list, name="run_list"),
    path("runs/<int:run_id>/", usage.run_detail, name="run_detail"),
    # --- Trained models: datasets, versions, deploy, rollback (ai/views/models.py) ---
    path("models/", models.model_list, name="model_list"),
    path("models/train/", models.model_train, name="model_train"),
    path("models/versions/<int:version_id>/progress/", models.model_version_progress, name="model_version_progress"),
    path("models/versions/<int:version_id>/deploy/", models.model_version_deploy, name="model_version_deploy"),
    path("models/versions/<int:version_id>/rollback/", models.model_version_rollback, name="model_version_rollback"),
]
