"""Inbox models, one module per channel; import them from here."""

from .chat import ChatConversation, ChatDeflection, ChatWidget
from .mail import InboundEmail, Mailbox

__all__ = ["ChatConversation", "ChatDeflection", "ChatWidget", "InboundEmail", "Mailbox"]
