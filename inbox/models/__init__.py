"""Inbox models, one module per channel; import them from here."""

from .mail import InboundEmail, Mailbox

__all__ = ["InboundEmail", "Mailbox"]
