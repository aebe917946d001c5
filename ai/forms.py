"""Forms of the workspace AI pages: input parsing and messages; every write happens in ai/services.py.

Service `ValidationError`s are keyed by model field; `add_service_errors` puts each on the form field that shows
it (`extra` → the JSON box), so a refused save reads like any other form error.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.forms import BootstrapFormMixin

from . import registry
from .models import AIPolicy, ProviderConfig
from .templatetags.ai_display import duration_words

# `extra` keys the form offers as fields of their own; any other key goes through the JSON box.
AZURE_KEYS = ("azure", "api_version")
COPILOT_KEYS = ("tenant_id", "client_id")
STRUCTURED_EXTRA = (*AZURE_KEYS, *COPILOT_KEYS)
# Which providers read which of them (ai/providers/*: openai reads azure/api_version, google api_version).
EXTRA_KEYS_BY_PROVIDER = {"openai": AZURE_KEYS, "google": ("api_version",), "copilot": COPILOT_KEYS}
SERVICE_FIELD_ALIASES = {"extra": "extra_json"}
HOUR, DAY = 3600, 24 * 3600
CACHE_TTL_CHOICES = [(0, "Never"), (5 * 60, "5 minutes"), (HOUR, "1 hour"), (6 * HOUR, "6 hours"), (DAY, "1 day")]
CACHE_TTL_CHOICES += [(7 * DAY, "1 week"), (30 * DAY, "30 days")]


class StyledForm(BootstrapFormMixin, forms.Form):
    """Bootstrap classes on every widget and `is-invalid` + `aria-invalid` on fields with errors (core.forms), plus
    `aria-describedby` pointing at the error and help texts the AI settings templates render."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def full_clean(self) -> None:
        super().full_clean()
        self._mark_invalid()

    def _mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                auto_id = self[name].auto_id
                described = [f"{auto_id}_error"] + ([f"{auto_id}_helptext"] if self.fields[name].help_text else [])
                attrs["aria-describedby"] = " ".join(described)

    def add_service_errors(self, error: ValidationError) -> None:
        """A service's refusal, message by message on the field it concerns (the form as a whole otherwise)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
        else:
            for name, messages in error.message_dict.items():
                field = SERVICE_FIELD_ALIASES.get(name, name)
                self.add_error(field if field in self.fields else None, messages)
        self._mark_invalid()


class PolicyForm(StyledForm):
    allow_external_providers = forms.BooleanField(
        required=False,
        label="Allow external providers",
        help_text="Off: only the built-in local provider runs. Nothing leaves the workspace.",
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )
    max_input_chars = forms.IntegerField(
        label="Longest input (characters)",
        min_value=100,
        max_value=500_000,
        help_text="Longer texts are refused before any provider sees them.",
    )
    cache_ttl_seconds = forms.TypedChoiceField(
        label="Reuse identical answers for",
        coerce=int,
        help_text="The same question within this time gets the saved answer, at no cost.",
    )

    def __init__(self, *args: Any, current_ttl: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = dict(CACHE_TTL_CHOICES)
        if current_ttl is not None and current_ttl not in choices:  # set elsewhere (the admin): offered as it is
            choices[current_ttl] = duration_words(current_ttl)
        self.fields["cache_ttl_seconds"].choices = sorted(choices.items())

    @classmethod
    def for_policy(cls, policy: AIPolicy) -> PolicyForm:
        return cls(
            initial={
                "allow_external_providers": policy.allow_external_providers,
                "max_input_chars": policy.max_input_chars,
                "cache_ttl_seconds": policy.cache_ttl_seconds,
            },
            current_ttl=policy.cache_ttl_seconds,
        )


class ProviderForm(StyledForm):
    """One external provider account. The key is write-only: never rendered back, blank on edit keeps it."""

    provider = forms.ChoiceField(label="Provider")
    label = forms.CharField(
        label="Name",
        max_length=100,
        required=False,
        help_text="Shown here and in the run log, e.g. “OpenAI production”. Empty: the provider's name.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    model = forms.CharField(
        max_length=100,
        required=False,
        help_text="Empty: the provider's default model. Azure OpenAI: the deployment name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "gpt-4o-mini"}),
    )
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}),
        help_text="Stored encrypted and never shown again.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    base_url = forms.CharField(
        label="Base URL",
        max_length=300,
        required=False,
        help_text=(
            "Empty: the vendor's own endpoint. Azure OpenAI: https://<resource>.openai.azure.com. "
            "Ollama: http://<host>:11434/v1. vLLM or another OpenAI-compatible server: http://<host>:8000/v1. "
            "Plain http and addresses inside the server's own network work only where the operator allows them."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "url", "spellcheck": "false"}),
    )
    priority = forms.IntegerField(
        min_value=0, max_value=32767, initial=100, help_text="Lower runs first; the local provider is always last."
    )
    enabled = forms.BooleanField(required=False, initial=True, widget=forms.CheckboxInput(attrs={"role": "switch"}))
    timeout_seconds = forms.FloatField(label="Timeout (seconds)", min_value=1, max_value=300, initial=30)
    monthly_budget_usd = forms.DecimalField(
        label="Monthly budget (USD)",
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        help_text="Empty: no limit. Once spent, this month's runs go to the next provider (finally local).",
    )
    azure = forms.BooleanField(required=False, label="This is Azure OpenAI")
    api_version = forms.CharField(
        label="API version",
        max_length=40,
        required=False,
        help_text="Azure OpenAI (required), e.g. 2024-10-21. Google Gemini (optional), e.g. v1.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    tenant_id = forms.CharField(
        label="Microsoft Entra tenant id",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    client_id = forms.CharField(
        label="App registration (client) id",
        max_length=100,
        required=False,
        help_text="The API key above is this app registration's client secret.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    extra_json = forms.CharField(
        label="Other vendor settings (JSON)",
        required=False,
        max_length=5000,
        help_text='Advanced, optional, e.g. {"embedding_model": "text-embedding-3-large"}.',
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "font-monospace"}),
    )

    def __init__(self, data: Any = None, *, config: ProviderConfig | None = None) -> None:
        self.config = config
        initial = self._initial_from(config) if config is not None and data is None else None
        super().__init__(data, initial=initial)
        self.fields["provider"].choices = self._provider_choices()
        if config is None or not config.has_api_key:
            del self.fields["clear_api_key"]
        if config is not None and config.has_api_key:
            self.fields[
                "api_key"
            ].help_text = (
                f"A key ending {config.api_key_hint} is stored. Leave empty to keep it; type a new one to replace it."
            )

    def _provider_choices(self) -> list[tuple[str, str]]:
        choices = registry.provider_choices()
        current = self.config.provider if self.config else None
        if current and current not in dict(choices):
            choices.append((current, f"{current} (no longer installed)"))  # editable, so it can be fixed or deleted
        return choices

    @staticmethod
    def _initial_from(config: ProviderConfig) -> dict[str, Any]:
        extra = dict(config.extra or {})
        others = {key: value for key, value in extra.items() if key not in STRUCTURED_EXTRA}
        return {
            "provider": config.provider,
            "label": config.label,
            "model": config.model,
            "base_url": config.base_url,
            "priority": config.priority,
            "enabled": config.enabled,
            "timeout_seconds": config.timeout_seconds,
            "monthly_budget_usd": config.monthly_budget_usd,
            "azure": bool(extra.get("azure")),
            "api_version": extra.get("api_version", ""),
            "tenant_id": extra.get("tenant_id", ""),
            "client_id": extra.get("client_id", ""),
            "extra_json": json.dumps(others, indent=1, sort_keys=True) if others else "",
        }

    def clean_extra_json(self) -> dict[str, Any]:
        text = self.cleaned_data.get("extra_json", "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(f"This is not valid JSON ({error.msg}, line {error.lineno}).") from None
        if not isinstance(value, dict):
            raise ValidationError('Enter a JSON object, e.g. {"embedding_model": "text-embedding-3-large"}.')
        return {key: item for key, item in value.items() if key not in STRUCTURED_EXTRA}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        provider = data.get("provider")
        extra = dict(data.get("extra_json") or {})
        for key in EXTRA_KEYS_BY_PROVIDER.get(provider, ()):
            value = data.get(key)
            if value:
                extra[key] = value.strip() if isinstance(value, str) else value
        data["extra"] = extra
        if provider == "openai" and extra.get("azure"):
            if not extra.get("api_version"):
                self.add_error("api_version", "Azure OpenAI needs an API version, e.g. 2024-10-21.")
            if not (data.get("base_url") or "").strip():
                self.add_error(
                    "base_url", "Azure OpenAI needs the resource endpoint, e.g. https://acme.openai.azure.com."
                )
        if provider == "copilot":
            if not extra.get("tenant_id"):
                self.add_error("tenant_id", "Microsoft 365 Copilot needs your Microsoft Entra tenant id.")
            if not extra.get("client_id"):
                self.add_error("client_id", "Microsoft 365 Copilot needs the app registration's client id.")
        return data

    def service_values(self) -> dict[str, Any]:
        """Keyword arguments for provider_config_create/update (without the key)."""
        data = self.cleaned_data
        names = ("provider", "label", "model", "base_url", "priority", "enabled", "timeout_seconds", "extra")
        return {name: data[name] for name in names} | {"monthly_budget_usd": data.get("monthly_budget_usd")}

    def key_values(self) -> dict[str, Any]:
        """The key arguments of provider_config_update: a blank key keeps the stored one."""
        return {
            "api_key": self.cleaned_data.get("api_key") or "",
            "clear_api_key": bool(self.cleaned_data.get("clear_api_key")),
        }
