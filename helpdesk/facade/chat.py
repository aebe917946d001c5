"""For the web chat: articles to suggest as the visitor types, a ticket's public thread, whether agents are online,
and "… is typing" on the ticket page."""

from __future__ import annotations

from django.urls import reverse

from .. import live
from ..models import Ticket, TicketMessage

# --- chat ---
# For the inbox's web chat (inbox/services/chat.py): article suggestions for what a visitor types, the public thread
# a visitor sees, whether any agent is online to answer, and the "visitor is typing" line on the ticket page.

CHAT_TYPING_SECONDS = 6  # the line fades after this long without another keystroke (static/css/helpdesk.css)
CHAT_AVAILABLE = ("available", "busy")  # AgentProfile availabilities that count as online when connected


def help_articles_suggest(text: str, *, limit: int = 3) -> list:
    """Public help-center articles matching `text` (the hybrid keyword + semantic search); none when the help
    center is closed, since the links would lead nowhere."""

    from core.markdown import markdown_to_text

    from ..contracts import ArticleSuggestion
    from ..selectors import kb as kb_selectors
    from ..selectors.config import helpdesk_settings_get

    if not text.strip() or not helpdesk_settings_get().help_center_enabled:
        return []
    return [
        ArticleSuggestion(
            id=match.article.pk,
            title=match.article.title,
            path=reverse("help_center:article", args=[match.article.slug]),
            excerpt=markdown_to_text(match.article.body)[:160],
        )
        for match in kb_selectors.help_search(query=text[:500], limit=limit)
    ]


def ticket_public_thread(ticket_id: int, *, limit: int = 200) -> list:
    """The ticket's description and public messages, oldest first, as its customer sees them (no internal notes)."""
    from ..contracts import ThreadEntry

    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        return []
    opening = ThreadEntry(
        id=0, author="customer", name=ticket.requester.name, body=ticket.description, created=ticket.created.isoformat()
    )
    messages = (
        TicketMessage.objects.filter(ticket_id=ticket_id, kind=TicketMessage.Kind.REPLY)
        .select_related("author", "author_contact")
        .order_by("-created", "-id")[:limit]
    )
    return [opening] + [
        ThreadEntry(
            id=message.pk,
            author="agent" if message.author_id else "customer",
            name=(message.author.get_full_name() if message.author_id else getattr(message.author_contact, "name", "")),
            body=message.body,
            created=message.created.isoformat(),
        )
        for message in reversed(list(messages))
    ]


def chat_agents_online() -> int:
    """How many agents could answer a chat now: able to work tickets, not away or offline (AgentProfile), and with
    a page of the workspace open (a live socket, core.realtime.users_connected)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from accounts.roles import roles_with
    from core.realtime import users_connected

    from ..models import AgentProfile

    agents = get_user_model().objects.filter(is_active=True, role__in=roles_with("tickets.edit"))
    unavailable = AgentProfile.objects.exclude(availability__in=CHAT_AVAILABLE).values("user_id")
    ids = list(agents.filter(~Q(pk__in=unavailable)).values_list("pk", flat=True))
    return len(users_connected(ids))


def ticket_typing_show(ticket_id: int, who: str) -> None:
    """Shows "<who> is typing…" on the pages showing the ticket, now (typing is not a write: nothing to commit)."""
    from django.utils.html import format_html

    from core.realtime import group_send_bounded, topic_group

    html = format_html(
        '<div id="chat-typing" hx-swap-oob="innerHTML"><span class="sb-chat-typing small text-body-secondary"'
        ' role="status"><i class="bi bi-three-dots" aria-hidden="true"></i> {} is typing…</span></div>',
        who or "The visitor",
    )
    group_send_bounded(topic_group(live.ticket_topic(ticket_id)), {"type": "push.html", "html": html})
