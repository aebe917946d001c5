"""Reads of outbound webhooks."""

from __future__ import annotations

from ..models import WebhookSubscription


def webhook_event_wanted(event: str) -> bool:
    """Whether an enabled subscription of this workspace wants `event` (one indexed probe of a small table)."""
    return WebhookSubscription.objects.filter(enabled=True, events__contains=[event]).exists()
