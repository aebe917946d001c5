"""The form that connects a Twilio number: E.164 number, Account SID, auth token (write-only), Messaging Service."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import BootstrapFormMixin


class SmsNumberForm(BootstrapFormMixin, forms.Form):
    phone_number = forms.CharField(
        label="Phone number",
        max_length=32,
        help_text="The Twilio number customers text, in E.164 form: + then country code and number.",
        widget=forms.TextInput(attrs={"placeholder": "+14155550100", "inputmode": "tel", "autocomplete": "off"}),
    )
    account_sid = forms.CharField(
        label="Account SID",
        max_length=34,
        widget=forms.TextInput(attrs={"placeholder": "AC…", "autocomplete": "off", "spellcheck": "false"}),
    )
    auth_token = forms.CharField(
        label="Auth token",
        max_length=64,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    messaging_service_sid = forms.CharField(
        label="Messaging Service SID (optional)",
        max_length=34,
        required=False,
        help_text="Send replies through a Messaging Service (MG…) instead of the number itself.",
        widget=forms.TextInput(attrs={"placeholder": "MG…", "autocomplete": "off", "spellcheck": "false"}),
    )
    enabled = forms.BooleanField(label="Send and receive texts on this number", required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["phone_number"].disabled = True
            self.fields["auth_token"].help_text = "Saved and never shown again. Leave empty to keep it."
        else:
            self.fields["auth_token"].required = True
            self.fields["auth_token"].help_text = "On the Twilio console's home page, next to the Account SID."
        self.style_fields()

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.editing:
            data.pop("phone_number", None)
        return data
