"""A workspace's own versions of the system prompts. The active one, if any, wins over the shipped file."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .. import cache as ai_cache


class PromptOverride(models.Model):
    feature = models.CharField(max_length=80, help_text='The prompt key, e.g. "summarize" or "reply_draft".')
    text = models.TextField()
    version = models.PositiveIntegerField(help_text="1, 2, 3… per feature; recorded on runs as tenant:v<N>.")
    note = models.CharField(max_length=200, blank=True, help_text="What changed, for the history.")
    active = models.BooleanField(default=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["feature", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["feature", "version"], name="ai_prompt_feature_version"),
            models.UniqueConstraint(fields=["feature"], condition=Q(active=True), name="ai_prompt_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.feature} tenant:v{self.version}{' (active)' if self.active else ''}"

    @property
    def version_label(self) -> str:
        return f"tenant:v{self.version}"


@receiver(post_save, sender=PromptOverride)
@receiver(post_delete, sender=PromptOverride)
def _prompt_changed(**kwargs) -> None:
    ai_cache.invalidate_soon()
