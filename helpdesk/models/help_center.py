"""The help center's own records: whether a suggested article answered a visitor (deflection), and the one-time
sign-in links that open "My requests"."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DeflectionEvent(models.Model):
    """A visitor was shown articles while writing a request (or a chat): they were helped, or asked anyway."""

    class Source(models.TextChoices):
        REQUEST_FORM = "request_form", "Help-center request form"
        CHAT = "chat", "Chat widget"

    class Outcome(models.TextChoices):
        HELPED = "helped", "Solved by an article"
        NOT_HELPED = "not_helped", "Asked anyway"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.REQUEST_FORM)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    # The article that helped (or the first one shown); kept when the article goes, as a count without a name.
    article = models.ForeignKey(
        "helpdesk.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="deflections"
    )
    ticket = models.ForeignKey(
        "helpdesk.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="deflections"
    )
    suggested = models.PositiveSmallIntegerField(default=0, help_text="How many articles the visitor was shown.")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.get_outcome_display()}"


class HelpSignInLink(models.Model):
    """An emailed "My requests" sign-in link: only a digest of its secret is kept; it works once, for a while."""

    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="help_sign_in_links")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Sign-in link of contact {self.contact_id} ({'used' if self.used_at else 'unused'})"
