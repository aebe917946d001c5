"""A workspace's AI settings: which providers it uses (keys encrypted), routing per feature, and its policy.

Every change to these rows (and to prompt overrides) invalidates the workspace's AI cache at once: the signal
receivers at the bottom bump the cache generation, whoever saved (services, admin, a test factory).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .. import cache as ai_cache

DEFAULT_MAX_INPUT_CHARS = 20_000
DEFAULT_CACHE_TTL_SECONDS = 24 * 3600


class ProviderConfig(models.Model):
    """One external provider account of this workspace. The local provider needs no row: it is always last."""

    class TestStatus(models.TextChoices):
        UNTESTED = "", "Not tested"
        OK = "ok", "Connected"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=30, help_text='Registry name: "openai", "anthropic", "google", "copilot".')
    label = models.CharField(max_length=100, help_text='Shown in settings and run logs, e.g. "OpenAI production".')
    model = models.CharField(max_length=100, blank=True, help_text="Empty: the provider's default model.")
    base_url = models.URLField(max_length=300, blank=True, help_text="Empty: the vendor's own endpoint.")
    # A Fernet token (ai/crypto.py); the key itself is never stored, logged or shown back.
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_hint = models.CharField(max_length=8, blank=True, editable=False)
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower runs first.")
    enabled = models.BooleanField(default=True)
    timeout_seconds = models.FloatField(default=30.0, validators=[MinValueValidator(1), MaxValueValidator(300)])
    extra = models.JSONField(default=dict, blank=True, help_text="Vendor specifics, e.g. Azure api_version.")
    monthly_budget_usd = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Empty: no limit. Once spent, this month's runs go to the next provider (finally local).",
    )
    # "2026-11": the month whose budget ran out and whose administrators were told; once per month.
    budget_exhausted_month = models.CharField(max_length=7, blank=True, editable=False)
    last_test_status = models.CharField(max_length=10, choices=TestStatus.choices, blank=True, editable=False)
    last_test_message = models.TextField(blank=True, editable=False)
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Microsoft 365 Copilot's delegated sign-in (ai/copilot_connection.py): the msal token cache as a Fernet token,
    # and who connected it, when, with which scopes and whether it still works. Written with update(): a token
    # refresh is not a settings change and must not flush the workspace's AI cache.
    oauth_token_cache_encrypted = models.TextField(blank=True, editable=False)
    oauth_connection = models.JSONField(default=dict, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.provider})"

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)


class FeatureRoute(models.Model):
    """Which providers, in order, serve one feature ("rewrite" → Anthropic); the local provider always follows.

    An empty list keeps the feature on the local provider (e.g. embeddings, so stored vectors stay comparable).
    """

    feature = models.CharField(max_length=80, unique=True)
    provider_config_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["feature"]

    def __str__(self) -> str:
        return self.feature


class AIPolicy(models.Model):
    """The workspace's AI rules. Each change adds a row (who, when): the newest row is the policy in force."""

    allow_external_providers = models.BooleanField(
        default=True, help_text="Off: nothing is ever sent to an external provider; only the local one runs."
    )
    max_input_chars = models.PositiveIntegerField(
        default=DEFAULT_MAX_INPUT_CHARS, validators=[MinValueValidator(100), MaxValueValidator(500_000)]
    )
    cache_ttl_seconds = models.PositiveIntegerField(
        default=DEFAULT_CACHE_TTL_SECONDS,
        validators=[MaxValueValidator(30 * 24 * 3600)],
        help_text="How long identical requests reuse an answer. 0: never cached.",
    )
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "AI policy"
        verbose_name_plural = "AI policy history"

    def __str__(self) -> str:
        external = "external providers allowed" if self.allow_external_providers else "local only"
        return f"AI policy #{self.pk}: {external}"


@receiver(post_save, sender=ProviderConfig)
@receiver(post_delete, sender=ProviderConfig)
@receiver(post_save, sender=FeatureRoute)
@receiver(post_delete, sender=FeatureRoute)
@receiver(post_save, sender=AIPolicy)
@receiver(post_delete, sender=AIPolicy)
def _settings_changed(**kwargs) -> None:
    ai_cache.invalidate_soon()
