"""The AI app on the workspace admin: provider settings (keys write-only), routes, policy, prompts, the ledger.

Writes go through ai.services, so validation, encryption and cache invalidation are the same as on the settings
pages. An API key is typed into a password field that is never filled back; the list shows only its hint.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.admin_site import WorkspaceModelAdmin, workspace_admin_site

from . import registry, services
from .models import AIFeedback, AIPolicy, AIRun, FeatureRoute, PromptOverride, ProviderConfig


class ProviderConfigForm(forms.ModelForm):
    provider = forms.ChoiceField(choices=())
    base_url = forms.URLField(
        required=False, assume_scheme="https", help_text="Empty: the vendor's own endpoint.", max_length=300
    )
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the stored key. It is encrypted and never shown again.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored key")

    class Meta:
        model = ProviderConfig
        fields = [
            "provider",
            "label",
            "model",
            "base_url",
            "priority",
            "enabled",
            "timeout_seconds",
            "monthly_budget_usd",
            "extra",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = registry.provider_choices()

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        values = {name: data.get(name) for name in ProviderConfigForm.Meta.fields}
        try:
            if self.instance.pk:
                saved = ProviderConfig.objects.get(pk=self.instance.pk)
                self.instance = services.provider_config_update(
                    config=saved, api_key=data.get("api_key"), clear_api_key=data.get("clear_api_key"), **values
                )
            else:
                self.instance = services.provider_config_create(api_key=data.get("api_key") or "", **values)
        except ValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from error
        return data

    def save(self, commit: bool = True) -> ProviderConfig:
        self.save_m2m = lambda: None
        return self.instance  # saved by the service in clean()

    def _post_clean(self) -> None:
        # The service validates and saves; Django's own instance construction would overwrite its work.
        pass


@admin.register(ProviderConfig, site=workspace_admin_site)
class ProviderConfigAdmin(WorkspaceModelAdmin):
    form = ProviderConfigForm
    list_display = ["label", "provider", "model", "priority", "enabled", "api_key_hint", "budget", "connection"]
    list_filter = ["provider", "enabled"]
    readonly_fields = [
        "api_key_hint",
        "last_test_status",
        "last_test_message",
        "last_test_at",
        "budget_exhausted_month",
    ]
    actions = ["test_connection"]

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [*ProviderConfigForm.Meta.fields, "api_key", "clear_api_key", *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        pass  # done by the form's service call

    def delete_model(self, request: HttpRequest, obj: ProviderConfig) -> None:
        services.provider_config_delete(config=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for config in queryset:
            services.provider_config_delete(config=config)

    @admin.display(description="Monthly budget")
    def budget(self, config: ProviderConfig) -> str:
        return f"${config.monthly_budget_usd}" if config.monthly_budget_usd is not None else "No limit"

    @admin.display(description="Connection")
    def connection(self, config: ProviderConfig) -> str:
        return config.get_last_test_status_display()

    @admin.action(description="Test the connection")
    def test_connection(self, request: HttpRequest, queryset) -> None:
        for config in queryset:
            result = services.provider_config_test(config=config)
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{config.label}: {result.message}", level)


class FeatureRouteForm(forms.ModelForm):
    class Meta:
        model = FeatureRoute
        fields = ["feature", "provider_config_ids"]
        help_texts = {"provider_config_ids": "Provider configuration ids in order, comma separated; local follows."}


@admin.register(FeatureRoute, site=workspace_admin_site)
class FeatureRouteAdmin(WorkspaceModelAdmin):
    form = FeatureRouteForm
    list_display = ["feature", "providers", "updated"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return ["feature"] if obj else []

    @admin.display(description="Providers, in order")
    def providers(self, route: FeatureRoute) -> str:
        labels = dict(ProviderConfig.objects.filter(pk__in=route.provider_config_ids).values_list("pk", "label"))
        names = [labels.get(pk, f"#{pk} (deleted)") for pk in route.provider_config_ids]
        return " → ".join([*names, "local"])

    def save_model(self, request: HttpRequest, obj: FeatureRoute, form, change: bool) -> None:
        route = services.feature_route_set(feature=obj.feature, provider_config_ids=obj.provider_config_ids)
        obj.pk = route.pk


@admin.register(AIPolicy, site=workspace_admin_site)
class AIPolicyAdmin(WorkspaceModelAdmin):
    list_display = ["created", "allow_external_providers", "max_input_chars", "cache_ttl_seconds", "changed_by"]
    fields = ["allow_external_providers", "max_input_chars", "cache_ttl_seconds"]
    list_select_related = ["changed_by"]
    deletable = False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the history is append-only: "add" records the new policy

    def save_model(self, request: HttpRequest, obj: AIPolicy, form, change: bool) -> None:
        policy = services.ai_policy_update(
            actor=request.user,
            allow_external_providers=obj.allow_external_providers,
            max_input_chars=obj.max_input_chars,
            cache_ttl_seconds=obj.cache_ttl_seconds,
        )
        obj.pk = policy.pk


@admin.register(PromptOverride, site=workspace_admin_site)
class PromptOverrideAdmin(WorkspaceModelAdmin):
    list_display = ["feature", "version", "active", "author", "created", "note"]
    list_filter = ["feature", "active"]
    list_select_related = ["author"]
    fields = ["feature", "text", "note", "active"]
    actions = ["activate"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # A saved version never changes (runs recorded it); editing saves a new version.
        return ["feature", "text", "active"] if obj else []

    def save_model(self, request: HttpRequest, obj: PromptOverride, form, change: bool) -> None:
        if change:
            PromptOverride.objects.filter(pk=obj.pk).update(note=obj.note)
            return
        try:
            saved = services.prompt_override_save(
                feature=obj.feature, text=obj.text, author=request.user, note=obj.note, activate=obj.active
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            raise
        obj.pk, obj.version = saved.pk, saved.version

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class ValidatingForm(form):
            def clean(self) -> dict:
                data = super().clean()
                if not self.instance.pk and data.get("feature") and data.get("text"):
                    from . import prompts

                    try:
                        prompts.override_template(data["feature"], data["text"], 0)
                    except prompts.PromptFormatError as error:
                        self.add_error("text", str(error))
                return data

            def validate_unique(self) -> None:
                pass  # the service numbers the version and hands the "active" flag over

        return ValidatingForm

    @admin.action(description="Use the selected version")
    def activate(self, request: HttpRequest, queryset) -> None:
        for override in queryset[:1]:
            services.prompt_override_activate(override=override)
            self.message_user(request, f"{override.feature} now uses {override.version_label}.", messages.SUCCESS)


class ReadOnlyAdmin(WorkspaceModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AIRun, site=workspace_admin_site)
class AIRunAdmin(ReadOnlyAdmin):
    list_display = ["created", "feature", "provider", "model", "status", "cached", "latency_ms", "cost_usd", "user"]
    list_filter = ["status", "feature", "provider", "cached"]
    list_select_related = ["user"]
    date_hierarchy = "created"


@admin.register(AIFeedback, site=workspace_admin_site)
class AIFeedbackAdmin(ReadOnlyAdmin):
    list_display = ["created", "run", "outcome", "edit_distance", "user"]
    list_filter = ["outcome"]
    list_select_related = ["run", "user"]
