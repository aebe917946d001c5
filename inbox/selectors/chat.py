"""Reading the web chat: the widget a public key names, whether a page's origin may embed it, a visitor's
conversation by its token, and what the widget shows (thread, suggestions, whether anyone is online)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.origins import origin_normalize
from helpdesk import facade as helpdesk

from ..models import ChatConversation, ChatWidget
from ..models.chat import token_hash

MAX_KEY_LENGTH = 40
MAX_TOKEN_LENGTH = 100


def widget_get() -> ChatWidget | None:
    return ChatWidget.objects.order_by("id").first()


def widget_for_key(key: object) -> ChatWidget | None:
    """The enabled widget with this public key, or None."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        return None
    return ChatWidget.objects.filter(public_key=key, enabled=True).first()


def widget_origin_allowed(widget: ChatWidget, origin: str) -> bool:
    normalized = origin_normalize(origin)
    return bool(normalized) and normalized in widget.allowed_origins


def conversation_for_token(widget: ChatWidget, token: object) -> ChatConversation | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    # A session unused for CHAT_VISITOR_TOKEN_DAYS has expired: a token found on a shared computer opens nothing.
    fresh = timezone.now() - timedelta(days=settings.CHAT_VISITOR_TOKEN_DAYS)
    return ChatConversation.objects.filter(widget=widget, token_hash=token_hash(token), last_seen__gte=fresh).first()


def conversation_for_ticket(ticket_id: int) -> ChatConversation | None:
    return ChatConversation.objects.filter(ticket_id=ticket_id).order_by("-id").first()


def ticket_exists(ticket_id: int) -> bool:
    return helpdesk.ticket_summary(ticket_id) is not None


def conversation_thread(conversation: ChatConversation) -> list:
    """The public messages the visitor sees (helpdesk.contracts.ThreadEntry), oldest first."""
    if conversation.ticket_id is None:
        return []
    return helpdesk.ticket_public_thread(conversation.ticket_id)


def agents_online() -> bool:
    return helpdesk.chat_agents_online() > 0


def articles_suggest(text: str) -> list:
    return helpdesk.help_articles_suggest(text, limit=3)


def deflection_counts() -> dict[str, int]:
    """How many chat visitors were offered articles, and how many said one answered their question (all time)."""
    return helpdesk.deflection_counts(source="chat")
