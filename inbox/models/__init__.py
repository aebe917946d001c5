"""Inbox models, one module per channel; import them from here."""

from .mail import InboundEmail, Mailbox
from .outbound import OutboundEmail
from .sms import SmsMessage, SmsNumber, SmsOptOut

__all__ = ["InboundEmail", "Mailbox", "OutboundEmail", "SmsMessage", "SmsNumber", "SmsOptOut"]
