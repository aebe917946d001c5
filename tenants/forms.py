"""Forms of the public site: creating a workspace and finding the one you belong to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy

from .models import Tenant
from .selectors import tenant_get_workspace, workspace_address_status


class BootstrapForm(forms.Form):
    """Gives widgets Bootstrap classes, and marks fields with errors `is-invalid` so the message shows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            default = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            field.widget.attrs["class"] = f"{default} {field.widget.attrs.get('class', '')}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        invalid = [name for name in self.fields if name in self.errors]
        for name in invalid:
            self.fields[name].widget.attrs["class"] += " is-invalid"
        if invalid:  # the keyboard starts where the first problem is
            for field in self.fields.values():
                field.widget.attrs.pop("autofocus", None)
            self.fields[invalid[0]].widget.attrs["autofocus"] = True


_ADDRESS_CHECK = {
    "hx-get": reverse_lazy("tenants:signup_address", urlconf=settings.PUBLIC_SCHEMA_URLCONF),
    "hx-trigger": "input changed delay:250ms",
    "hx-target": "#signup-address-status",
    "hx-swap": "outerHTML",
    "hx-sync": "closest form:replace",
}


class WorkspaceSignupForm(BootstrapForm):
    name = forms.CharField(
        label="Workspace name",
        max_length=100,
        error_messages={"required": "Give your workspace a name."},
        help_text="Usually your company or team name. You can change it later.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "organization",
                "placeholder": "Acme Corporation",
                "autofocus": True,
                **_ADDRESS_CHECK,
                "hx-include": "[name='slug'], [name='slug_edited']",
            }
        ),
    )
    slug = forms.CharField(
        label="Workspace address",
        max_length=40,
        error_messages={"required": "Choose an address for your workspace."},
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "acme",
                **_ADDRESS_CHECK,
                "hx-include": "[name='name'], [name='slug_edited']",
                # Once people type their own address, the name field stops suggesting one.
                "data-sb-marks-edited": "slug_edited",
                "aria-describedby": "signup-address-status id_slug_error",
            }
        ),
    )
    slug_edited = forms.CharField(required=False, widget=forms.HiddenInput)
    owner_name = forms.CharField(
        label="Your name",
        max_length=150,
        error_messages={"required": "Tell us your name so your teammates recognise you."},
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "Jane Doe"}),
    )
    email = forms.EmailField(
        label="Work email",
        max_length=254,
        error_messages={"required": "Enter your email address.", "invalid": "Enter a valid email address."},
        help_text="You will sign in with it. We send a link to confirm it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "jane@acme.com"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        error_messages={"required": "Choose a password."},
        help_text="At least 10 characters; not a common password and not all digits.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    terms = forms.BooleanField(
        label="I agree to the terms of service",
        error_messages={"required": "Please accept the terms of service to create a workspace."},
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give your workspace a name.")
        return name

    def clean_slug(self) -> str:
        status = workspace_address_status(self.cleaned_data["slug"])
        if not status.is_free:
            raise ValidationError(status.message, code=status.state)
        return status.slug

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            # The similarity check compares against the owner's email and name, as it will after sign-up.
            owner = get_user_model()(email=cleaned.get("email", ""), name=cleaned.get("owner_name", ""))
            try:
                password_validation.validate_password(password, user=owner)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned


def slug_from_address(address: str) -> str:
    """ "acme", "acme.localhost" and "http://acme.localhost:8000/customers/" all mean workspace "acme"."""
    text = address.strip().lower()
    host = urlsplit(text if "://" in text else f"http://{text}").hostname or ""
    return host.removesuffix(f".{settings.SWITCHBOARD_BASE_DOMAIN}").removeprefix("www.")


class WorkspaceFindForm(BootstrapForm):
    workspace = forms.CharField(
        label="Workspace address",
        max_length=253,
        error_messages={"required": "Type your workspace address, for example “acme”."},
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "autocomplete": "off", "spellcheck": "false", "placeholder": "acme"}
        ),
    )

    def clean_workspace(self) -> Tenant:
        slug = slug_from_address(self.cleaned_data["workspace"])
        tenant = tenant_get_workspace(slug=slug) if slug else None
        host = f"{slug or self.cleaned_data['workspace']}.{settings.SWITCHBOARD_BASE_DOMAIN}"
        if tenant is None:
            raise ValidationError(
                f"We couldn’t find a workspace at {host}. Check the spelling, or ask a teammate for the link.",
                code="unknown_workspace",
            )
        if tenant.status == Tenant.Status.FAILED:
            raise ValidationError(
                f"The workspace at {host} could not be set up. Please create a new workspace.",
                code="failed_workspace",
            )
        return tenant
