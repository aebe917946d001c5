"""Saved ticket views: a named filter of the ticket list, personal or shared with the workspace."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    name = models.CharField(max_length=80)
    # The ticket list's query parameters (status, priority, assignee, team, tag, q, sort…), as the list reads them.
    filters = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views"
    )
    shared = models.BooleanField(default=False, help_text="Everyone in the workspace sees it.")
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
