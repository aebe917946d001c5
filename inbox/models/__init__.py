"""Inbox models, one module per channel; import them from here."""

from .mail import InboundEmail, Mailbox
from .outbound import OutboundEmail

__all__ = ["InboundEmail", "Mailbox", "OutboundEmail"]
