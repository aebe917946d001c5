"""The forms of Settings → Channels: one per kind of mailbox. Each splits what it read into the mailbox's plain
fields, its non-secret `settings` and its `secrets` (never shown again: an empty secret field keeps the stored one).
"""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import BootstrapFormMixin

from .fetchers import imap
from .models import Mailbox

SECRET_SET_HELP = "•••• set. Leave empty to keep it, or type a new one to replace it."


class MailboxForm(BootstrapFormMixin, forms.Form):
    """What every kind has: a name, the support address, the sender's name."""

    kind: str = ""
    secret_fields: tuple[str, ...] = ()
    settings_fields: tuple[str, ...] = ()

    name = forms.CharField(max_length=100, help_text="For you, e.g. “Support” or “Billing”.")
    address = forms.EmailField(label="Support address", help_text="The address your customers write to.")
    display_name = forms.CharField(
        max_length=100, required=False, label="Sender name", help_text="Shown on replies, e.g. “Acme Support”."
    )

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        self.mailbox = mailbox
        if mailbox is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": mailbox.name,
                "address": mailbox.address,
                "display_name": mailbox.display_name,
                **{key: mailbox.settings.get(key) for key in self.settings_fields if key in mailbox.settings},
            }
        super().__init__(*args, **kwargs)
        stored = mailbox.secrets() if mailbox is not None else {}
        for name in self.secret_fields:
            if stored.get(name):
                self.fields[name].required = False
                self.fields[name].help_text = SECRET_SET_HELP
                self.fields[name].widget.attrs["placeholder"] = "••••••••"
        self.style_fields()

    def settings_value(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in self.settings_fields}

    def secrets_value(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key) or "" for key in self.secret_fields}


def _secret(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        strip=False,
    )


class ImapMailboxForm(MailboxForm):
    kind = Mailbox.Kind.IMAP
    secret_fields = ("password",)
    settings_fields = ("host", "port", "security", "username", "folder", "after_import", "move_to")

    host = forms.CharField(label="IMAP server", max_length=253, help_text="e.g. imap.example.com")
    security = forms.ChoiceField(
        choices=[
            (imap.SECURITY_SSL, "SSL/TLS (usually port 993)"),
            (imap.SECURITY_STARTTLS, "STARTTLS (usually port 143)"),
        ],
        initial=imap.SECURITY_SSL,
    )
    port = forms.IntegerField(min_value=1, max_value=65535, initial=993)
    username = forms.CharField(label="User name", max_length=320, help_text="Often the full email address.")
    password = _secret("Password", "An app password if your provider asks for one.")
    folder = forms.CharField(max_length=200, initial="INBOX", help_text="The folder new mail is read from.")
    after_import = forms.ChoiceField(
        label="After import",
        choices=[
            (imap.AFTER_SEEN, "Mark as read"),
            (imap.AFTER_MOVE, "Move to another folder"),
            (imap.AFTER_LEAVE, "Leave it as it is"),
        ],
        initial=imap.AFTER_SEEN,
    )
    move_to = forms.CharField(
        label="Move to folder", max_length=200, required=False, help_text="Only when moving, e.g. “Imported”."
    )

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip().lower()
        if "://" in host or "/" in host or " " in host:
            raise forms.ValidationError("Enter only the server's name, e.g. imap.example.com, without https:// or /.")
        return host

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("after_import") == imap.AFTER_MOVE and not (data.get("move_to") or "").strip():
            self.add_error("move_to", "Name the folder to move imported mail to.")
        if data.get("after_import") == imap.AFTER_MOVE and (data.get("move_to") or "").strip() == data.get("folder"):
            self.add_error("move_to", "Choose a folder other than the one mail is read from.")
        return data


class Microsoft365MailboxForm(MailboxForm):
    kind = Mailbox.Kind.MICROSOFT365
    secret_fields = ("client_secret",)
    settings_fields = ("tenant_id", "client_id")

    tenant_id = forms.UUIDField(
        label="Directory (tenant) ID", help_text="On the app registration's Overview page in Microsoft Entra."
    )
    client_id = forms.UUIDField(label="Application (client) ID")
    client_secret = _secret("Client secret", "The secret's Value (not its ID), from Certificates & secrets.")

    def settings_value(self) -> dict[str, Any]:
        return {key: str(self.cleaned_data[key]) for key in self.settings_fields}


class ForwardMailboxForm(MailboxForm):
    kind = Mailbox.Kind.FORWARD


class GmailMailboxForm(MailboxForm):
    """The names and what happens to imported mail: the access comes from Google's consent screen
    (`inbox:gmail_connect`), which grants the labels change "mark read" and "move" need."""

    kind = Mailbox.Kind.GMAIL
    settings_fields = ("after_import", "move_to")

    after_import = forms.ChoiceField(
        label="After import",
        choices=[
            (imap.AFTER_SEEN, "Mark as read"),
            (imap.AFTER_MOVE, "Move under a label (out of the inbox)"),
            (imap.AFTER_LEAVE, "Leave it as it is"),
        ],
        initial=imap.AFTER_SEEN,
        required=False,
    )
    move_to = forms.CharField(
        label="Label",
        max_length=200,
        required=False,
        help_text="Only when moving, e.g. “Imported” (created if missing).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["after_import"] = data.get("after_import") or imap.AFTER_SEEN
        move_to = (data.get("move_to") or "").strip()
        if data["after_import"] == imap.AFTER_MOVE and not move_to:
            self.add_error("move_to", "Name the label to put imported mail under.")
        if move_to.upper() in GMAIL_SYSTEM_LABELS:
            self.add_error("move_to", "Choose a label of your own, not one of Gmail's (Inbox, Sent, Spam…).")
        data["move_to"] = move_to
        return data

    def settings_value(self) -> dict[str, Any]:
        # Kept beside what the consent stored (a mailbox's own OAuth client id).
        stored = dict(self.mailbox.settings or {}) if self.mailbox is not None else {}
        return stored | super().settings_value()


GMAIL_SYSTEM_LABELS = {"INBOX", "SENT", "SPAM", "TRASH", "DRAFT", "UNREAD", "STARRED", "IMPORTANT", "CHAT"}
