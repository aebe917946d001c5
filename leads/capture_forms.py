"""Forms of lead capture: a capture form's settings (Leads → Web forms) and the public form visitors fill in.

The public form carries no CSRF token (see leads/views_capture.py) but a signed token of its own: which form it was
rendered for, the submission id that makes a double submit one lead, the site that showed it, and when.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing

from core.forms import BootstrapFormMixin
from core.origins import origins_parse

from . import selectors
from .capture import MAX_ORIGINS, CaptureSubmission
from .forms import OwnerChoiceField, StageChoiceField
from .models import CaptureField, LeadCaptureForm, Stage, StageKind

TOKEN_SALT = "leads.capture.form"
TOKEN_MAX_AGE = 24 * 3600  # a form left open overnight is sent again after a reload
HONEYPOT = "website"


class CaptureFormSettingsForm(BootstrapFormMixin, forms.ModelForm):
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
        label="Sites allowed to show the form",
        help_text="One per line, e.g. https://www.example.com (scheme, host and port; no path).",
    )
    shown_fields = forms.MultipleChoiceField(
        choices=CaptureField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Fields shown besides name and email",
    )
    stage = StageChoiceField(queryset=Stage.objects.none(), required=False, label="New leads join")
    default_owner = OwnerChoiceField(queryset=None, required=False, label="Owner of new leads")

    class Meta:
        model = LeadCaptureForm
        fields = [
            "name",
            "enabled",
            "allowed_origins",
            "stage",
            "default_owner",
            "shown_fields",
            "currency",
            "thank_you",
        ]
        labels = {"enabled": "Switched on", "thank_you": "Thank-you text"}
        widgets = {"currency": forms.TextInput(attrs={"maxlength": 3, "size": 3, "autocomplete": "off"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stages = [stage for stage in selectors.stage_list() if stage.kind == StageKind.OPEN]
        self.fields["stage"].queryset = Stage.objects.filter(pk__in=[stage.pk for stage in stages]).select_related(
            "pipeline"
        )
        self.fields["stage"].empty_label = "The default pipeline's first stage"
        self.fields["default_owner"].queryset = selectors.owner_choices()
        self.fields["default_owner"].empty_label = "Nobody (the board shows them unassigned)"
        if not self.is_bound:
            self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins)
            self.initial["shown_fields"] = list(self.instance.shown_fields)
        self.style_fields()

    def clean_allowed_origins(self) -> list[str]:
        return origins_parse(self.cleaned_data["allowed_origins"], limit=MAX_ORIGINS)


def form_token(form: LeadCaptureForm, *, submission_id: uuid.UUID, origin: str) -> str:
    return signing.dumps({"k": form.public_key, "s": str(submission_id), "o": origin}, salt=TOKEN_SALT)


def form_token_read(token: str, form: LeadCaptureForm) -> dict | None:
    """The token's contents when it was made for this form within TOKEN_MAX_AGE, else None."""
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or data.get("k") != form.public_key:
        return None
    return data


class CaptureSubmissionForm(forms.Form):
    """What a visitor sends. `website` is a honeypot: hidden from people, filled in by bots that fill in everything."""

    name = forms.CharField(max_length=200, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(max_length=254, label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    company = forms.CharField(
        max_length=200, required=False, label="Company", widget=forms.TextInput(attrs={"autocomplete": "organization"})
    )
    phone = forms.CharField(
        max_length=40,
        required=False,
        label="Phone",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    message = forms.CharField(
        max_length=5000, required=False, label="Message", widget=forms.Textarea(attrs={"rows": 4})
    )
    value = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal("999999999999"), decimal_places=2, label="Budget"
    )
    website = forms.CharField(required=False, max_length=200)
    token = forms.CharField(widget=forms.HiddenInput, max_length=500)

    def __init__(self, *args: Any, capture_form: LeadCaptureForm, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capture_form = capture_form
        for name in CaptureField.values:
            if name not in capture_form.shown_fields:
                del self.fields[name]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        self.fields[HONEYPOT].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.token_data: dict | None = None

    def is_spam(self) -> bool:
        return bool((self.data.get(HONEYPOT) or "").strip())

    def clean_token(self) -> str:
        data = form_token_read(self.cleaned_data["token"], self.capture_form)
        if data is None:
            raise forms.ValidationError("This form has expired: reload the page and send it again.")
        self.token_data = data
        return self.cleaned_data["token"]

    def submission(self) -> CaptureSubmission:
        data = self.cleaned_data
        return CaptureSubmission(
            submission_id=uuid.UUID(self.token_data["s"]),
            name=data["name"].strip(),
            email=data["email"],
            company=data.get("company", ""),
            phone=data.get("phone", ""),
            message=data.get("message", ""),
            value=data.get("value"),
        )

    def visible_fields_in_order(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in (HONEYPOT, "token")]
