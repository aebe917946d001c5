"""The chat widget's settings form (Settings → Channels → Chat)."""

from __future__ import annotations

from django import forms

from core.origins import origins_parse

from .models import ChatWidget

MAX_ORIGINS = 20


class ChatWidgetForm(forms.ModelForm):
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control font-monospace"}),
        help_text="One per line, e.g. https://www.example.com (scheme, host and port; no path). "
        "The widget runs only on pages of these sites.",
    )

    class Meta:
        model = ChatWidget
        fields = ["enabled", "allowed_origins", "greeting", "prechat_form", "colour"]
        widgets = {
            "enabled": forms.CheckboxInput(attrs={"class": "form-check-input", "role": "switch"}),
            "prechat_form": forms.CheckboxInput(attrs={"class": "form-check-input", "role": "switch"}),
            "greeting": forms.TextInput(attrs={"class": "form-control"}),
            "colour": forms.TextInput(attrs={"class": "form-control form-control-color", "type": "color"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins)

    def clean_allowed_origins(self) -> list[str]:
        return origins_parse(self.cleaned_data["allowed_origins"], limit=MAX_ORIGINS)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("enabled") and not data.get("allowed_origins"):
            self.add_error("allowed_origins", "List at least one site before turning the widget on.")
        return data
