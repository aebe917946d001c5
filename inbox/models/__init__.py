"""Inbox models, one module per channel; import them from here."""

from .mail import InboundEmail, Mailbox
from .sms import SmsMessage, SmsNumber, SmsOptOut

__all__ = ["InboundEmail", "Mailbox", "SmsMessage", "SmsNumber", "SmsOptOut"]
