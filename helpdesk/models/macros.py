"""Macros: an agent's named reply text (with placeholders) and ticket actions, personal or shared with everyone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .tickets import Ticket


class Macro(models.Model):
    class Visibility(models.TextChoices):
        PERSONAL = "personal", "Personal (only me)"
        SHARED = "shared", "Shared (everyone)"

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    # Markdown with placeholders such as {{ ticket.requester.first_name }}, substituted by core.placeholders (never
    # by Django's template engine): checked against helpdesk.services.ticket_actions.TICKET_PLACEHOLDERS when saved.
    reply_text = models.TextField(blank=True)
    # Ticket actions as helpdesk.services.ticket_actions takes them: [{"type": "set_status", "value": "pending"}, …]
    actions = models.JSONField(default=list, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PERSONAL)
    # A personal macro's owner; for a shared one, who created it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="macros"
    )
    usage_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "visibility"], name="macro_owner_visibility")]

    def __str__(self) -> str:
        return self.name

    @property
    def shared(self) -> bool:
        return self.visibility == self.Visibility.SHARED


class MacroUse(models.Model):
    """One application of a macro: who, on which ticket, when (usage_count keeps the total)."""

    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="macro_uses")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["macro", "created"], name="macro_use_macro_created")]

    def __str__(self) -> str:
        return f"{self.macro} on #{self.ticket_id}"
