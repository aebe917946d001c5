"""Inbox models, one module per channel; import them from here."""

from .mail import InboundEmail, Mailbox
from .webhooks import ApiIdempotencyKey, WebhookDelivery, WebhookSubscription

__all__ = ["ApiIdempotencyKey", "InboundEmail", "Mailbox", "WebhookDelivery", "WebhookSubscription"]
