"""Reply drafts agents asked the AI for: kept with their sources so the API (and later reviews) can read them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .tickets import Ticket


class TicketDraft(models.Model):
    """One drafted reply as it was offered: text, the sources it drew on (public and internal), its checks."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="drafts")
    text = models.TextField()
    # [{number, kind, id, title, url, excerpt, score, internal}]; internal sources are for agents only.
    sources = models.JSONField(default=list)
    confidence = models.FloatField(null=True)
    customer_safe = models.BooleanField(default=False)
    problems = models.JSONField(default=list)
    provider = models.CharField(max_length=30, blank=True)
    model = models.CharField(max_length=100, blank=True)
    ai_run_id = models.BigIntegerField(null=True, blank=True, help_text="The AI ledger's run of this draft.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["ticket", "-created", "-id"], name="draft_ticket_newest")]

    def __str__(self) -> str:
        return f"Draft for #{self.ticket_id}"
