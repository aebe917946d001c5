"""The web chat: a workspace's embeddable widget, the conversations visitors hold in it (each one a ticket on the chat
channel), and what the widget's article suggestions did for the visitors who saw them (deflection)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from core import crypto

SECRET_PURPOSE = "inbox.chat-identity-secret"


def public_key_new() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def token_hash(token: str) -> str:
    """Visitor tokens are kept hashed: a leaked table lets nobody speak in a visitor's conversation."""
    return hashlib.sha256(token.encode()).hexdigest()


class ChatWidget(models.Model):
    """The workspace's chat widget: where it may be embedded and how it looks. One per workspace."""

    public_key = models.CharField(max_length=40, unique=True, default=public_key_new, editable=False)
    enabled = models.BooleanField(default=False)
    # Origins ("https://www.example.com", scheme + host + port) whose pages may embed the widget.
    allowed_origins = models.JSONField(default=list, blank=True)
    greeting = models.CharField(max_length=200, default="Hi! How can we help?")
    prechat_form = models.BooleanField(default=True, help_text="Ask for name, email and question before the chat.")
    colour = models.CharField(
        max_length=7, default="#0d6efd", validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #0d6efd.")]
    )
    # HMAC-SHA256 of a visitor's email with this secret proves the embedding site vouches for that visitor. The
    # check needs the secret itself, so it is stored encrypted (core.crypto) and shown only when it is made.
    identity_secret_encrypted = models.TextField(blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Chat widget {self.public_key}"

    def identity_secret(self) -> str:
        if not self.identity_secret_encrypted:
            return ""
        return crypto.decrypt(self.identity_secret_encrypted, purpose=SECRET_PURPOSE)

    def identity_secret_set(self, secret: str) -> None:
        self.identity_secret_encrypted = crypto.encrypt(secret, purpose=SECRET_PURPOSE) if secret else ""


class ChatConversation(models.Model):
    """One visitor's chat: who they said they are, where they chat from, and the ticket it became."""

    widget = models.ForeignKey(ChatWidget, on_delete=models.CASCADE, related_name="conversations")
    token_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    identified = models.BooleanField(default=False, help_text="The embedding site signed the visitor's email.")
    origin = models.CharField(max_length=200)
    ticket_id = models.IntegerField(null=True, blank=True)
    # No agent was online: the visitor left an email and the answer goes there (the ticket is on the email channel).
    by_email = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["ticket_id"], name="chat_conversation_ticket")]

    def __str__(self) -> str:
        return self.email or self.name or f"Visitor {self.pk}"
