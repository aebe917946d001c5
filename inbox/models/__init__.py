"""Inbox models, one module per channel; import them from here."""

from .chat import ChatConversation, ChatWidget
from .mail import InboundEmail, Mailbox
from .outbound import OutboundEmail
from .sms import SmsMessage, SmsNumber, SmsOptOut
from .webhooks import ApiIdempotencyKey, WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiIdempotencyKey",
    "ChatConversation",
    "ChatWidget",
    "InboundEmail",
    "Mailbox",
    "OutboundEmail",
    "SmsMessage",
    "SmsNumber",
    "SmsOptOut",
    "WebhookDelivery",
    "WebhookSubscription",
]
