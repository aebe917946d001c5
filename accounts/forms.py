"""Forms for the Team page, invitation acceptance and role changes."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from .models import Role, User
from .roles import ROLE_DESCRIPTIONS


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@company.com"}),
    )
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]
        self.fields["role"].initial = Role.AGENT
        self.role_descriptions = [(Role(role).label, ROLE_DESCRIPTIONS[role]) for role in roles]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class InvitationAcceptForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "Ada Lovelace"}),
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Repeat the password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        data = super().clean()
        password = data.get("password1")
        if password and data.get("password2") and password != data["password2"]:
            self.add_error("password2", "The two passwords are not the same.")
        if password:
            # Checked here as well as in the service, so every problem shows at once on the first try.
            candidate = User(email=self.email, name=data.get("name", ""))
            try:
                password_validation.validate_password(password, user=candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return data
