"""The web chat's writes: the widget's settings and identity secret, visitors' conversations becoming tickets on the
chat channel (or the email channel when no agent was online), live pushes to the visitor, and deflection records.

Agents' public replies on chat tickets reach the visitor through `chat_deliver` (registered for the "chat" channel
in inbox.services.outbound): pushed to the conversation's group, where each open visitor socket shows it and reports
it delivered (inbox.consumers). A visitor with no socket open sees it in the thread when they come back, and a
visitor who left an email address also gets it by email then: they closed the page and may not come back.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
from dataclasses import asdict, replace

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.realtime import group_name, group_send_bounded
from core.validation import validate_international_email
from helpdesk import facade as helpdesk
from helpdesk.contracts import OutgoingMessage, ThreadEntry

from ..models import ChatConversation, ChatWidget
from ..models.chat import token_hash
from ..selectors.chat import conversation_for_ticket
from .outbound import deliverer
from .outbound_email import outbound_email_queue

logger = logging.getLogger(__name__)

CHAT = "chat"
EMAIL = "email"
MAX_BODY = 5_000
MAX_NAME = 100
MAX_QUERY = 500
MAX_ARTICLES = 10
SUBJECT_WORDS = 80
# Visitors who gave no email still need a requester: an address that can never receive mail (RFC 2606).
ANONYMOUS_DOMAIN = "anonymous.invalid"
SOCKETS_KEY = "chat-visitor-sockets:{}"  # open sockets per conversation, in the workspace's own cache keys
SOCKETS_TTL = 24 * 3600


def conversation_group(conversation_id: int, *, schema: str | None = None) -> str:
    return group_name(CHAT, conversation_id, schema=schema)


# --- The widget -------------------------------------------------------------------------------------


def widget_ensure() -> ChatWidget:
    """The workspace's widget, made (disabled, no origins) the first time an admin opens its settings."""
    widget = ChatWidget.objects.order_by("id").first()
    return widget or ChatWidget.objects.create()


def widget_update(*, widget: ChatWidget, **values) -> ChatWidget:
    for field, value in values.items():
        setattr(widget, field, value)
    widget.full_clean()
    widget.save()
    return widget


def widget_secret_rotate(*, widget: ChatWidget) -> str:
    """A new identity secret; returned once to show the admin, kept encrypted. The old one stops verifying now."""
    secret = secrets.token_urlsafe(32)
    widget.identity_secret_set(secret)
    widget.save(update_fields=["identity_secret_encrypted"])
    return secret


def identity_hash(secret: str, email: str) -> str:
    """What the embedding site computes for a signed-in visitor: hex HMAC-SHA256 of the email with the secret."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def identity_verified(*, widget: ChatWidget, email: str, user_hash: str) -> bool:
    secret = widget.identity_secret()
    if not secret or not email or not user_hash:
        return False
    return hmac.compare_digest(identity_hash(secret, email), user_hash.strip().lower())


# --- Conversations ------------------------------------------------------------------------------------


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    if email:
        try:
            validate_international_email(email)
        except ValidationError:
            raise ValidationError({"email": "Enter a valid email address."}) from None
    return email


def conversation_start(
    *, widget: ChatWidget, origin: str, name: str = "", email: str = "", user_hash: str = ""
) -> tuple[ChatConversation, str]:
    """A new conversation and the visitor's token (returned once, kept hashed).

    With `user_hash` the visitor is identified: the hash must be the HMAC of `email` with the widget's identity
    secret, or nothing is created (a site cannot half-vouch for someone)."""
    signed = (email or "").strip()  # the site signed the address as it wrote it: verify that, store it lower-case
    email = _clean_email(email)
    identified = bool(user_hash)
    if identified and not identity_verified(widget=widget, email=signed, user_hash=user_hash):
        raise ValidationError({"user_hash": "The visitor's identity could not be verified: user_hash does not match."})
    token = secrets.token_urlsafe(32)
    conversation = ChatConversation.objects.create(
        widget=widget,
        token_hash=token_hash(token),
        name=(name or "").strip()[:MAX_NAME],
        email=email,
        identified=identified,
        origin=origin[:200],
    )
    return conversation, token


def _body(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": "Write a message."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"A message is at most {MAX_BODY} characters."})
    return body.strip()


def _subject(body: str) -> str:
    first = body.splitlines()[0].strip()
    return first if len(first) <= SUBJECT_WORDS else first[: SUBJECT_WORDS - 1] + "…"


def _requester(conversation: ChatConversation) -> str:
    return conversation.email or f"visitor-{conversation.pk}@{ANONYMOUS_DOMAIN}"


@transaction.atomic
def conversation_message_add(*, conversation: ChatConversation, body: object) -> ThreadEntry:
    """The visitor's message: the first opens a ticket on the chat channel, the next ones join it (a new ticket if
    it was closed meanwhile). The caller (inbox.consumers) shows it on every socket of the conversation."""
    text = _body(body)
    conversation = ChatConversation.objects.select_for_update().get(pk=conversation.pk)
    received = None
    if conversation.ticket_id is not None:
        try:
            received, _ = helpdesk.message_receive(
                ticket_id=conversation.ticket_id,
                body=text,
                sender_email=_requester(conversation),
                sender_name=conversation.name,
                channel=CHAT,
            )
        except ValidationError:  # closed or deleted: the visitor starts a new ticket
            received = None
    if received is None:
        received, _ = helpdesk.ticket_open(
            subject=_subject(text), body=text, sender_email=_requester(conversation), sender_name=conversation.name,
            channel=CHAT,
        )  # fmt: skip
        conversation.ticket_id = received.ticket_id
    conversation.last_seen = timezone.now()
    conversation.save(update_fields=["ticket_id", "last_seen"])
    entry = ThreadEntry(
        id=received.message_id or 0,
        author="customer",
        name=conversation.name,
        body=text,
        created=timezone.now().isoformat(),
    )
    return entry


@transaction.atomic
def conversation_offline(
    *, widget: ChatWidget, origin: str, name: str, email: str, body: object, conversation: ChatConversation | None
) -> ChatConversation:
    """No agent online: the question becomes a ticket on the email channel, so the answer is emailed."""
    email = _clean_email(email)
    if not email:
        raise ValidationError({"email": "Leave your email address so we can answer you."})
    text = _body(body)
    if conversation is None:
        conversation, _ = conversation_start(widget=widget, origin=origin, name=name, email=email)
    received, _ = helpdesk.ticket_open(
        subject=_subject(text), body=text, sender_email=email, sender_name=(name or "").strip()[:MAX_NAME],
        channel=EMAIL,
    )  # fmt: skip
    conversation.email, conversation.by_email, conversation.ticket_id = email, True, received.ticket_id
    conversation.save(update_fields=["email", "by_email", "ticket_id"])
    return conversation


def deflection_record(
    *, widget: ChatWidget, conversation: ChatConversation | None, query: object, article_ids: object, helped: object
) -> None:
    """The visitor said whether the articles offered for their question helped: counted by the helpdesk with the
    help center's own (helpdesk.facade.deflection_record, source "chat"), so one rate covers both."""
    if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY:
        raise ValidationError({"query": f"The question is 1 to {MAX_QUERY} characters."})
    if (
        not isinstance(article_ids, list)
        or not 0 < len(article_ids) <= MAX_ARTICLES
        or not all(isinstance(value, int) and not isinstance(value, bool) and value > 0 for value in article_ids)
    ):
        raise ValidationError({"article_ids": f"Name the 1 to {MAX_ARTICLES} articles offered."})
    if not isinstance(helped, bool):
        raise ValidationError({"helped": "Say whether the articles helped (true or false)."})
    helpdesk.deflection_record(
        helped=helped,
        source="chat",
        article_id=article_ids[0],
        ticket_id=conversation.ticket_id if conversation is not None else None,
        suggested=len(article_ids),
    )


# --- Agents to visitors -----------------------------------------------------------------------------


@deliverer(CHAT)
def chat_deliver(message: OutgoingMessage) -> None:
    """An agent's public reply on a chat ticket: pushed to the visitor's open sockets ("sent" here, "delivered"
    when a socket showed it). Emails the helpdesk writes about the ticket itself (acknowledgement, survey) have no
    place in a chat and are not sent."""
    if message.message_id is None:
        logger.info("chat ticket #%s: %s not sent (no chat message)", message.ticket_id, message.kind)
        return
    conversation = conversation_for_ticket(message.ticket_id)
    if conversation is None:
        helpdesk.message_delivery_set(
            message_id=message.message_id, status="failed", detail="No chat conversation is linked to this ticket."
        )
        return
    entry = ThreadEntry(
        id=message.message_id,
        author="agent",
        name=message.author_name,
        body=message.body,
        created=timezone.now().isoformat(),
    )
    helpdesk.message_delivery_set(message_id=message.message_id, status="sent", detail="Sent to the chat.")
    group_send_bounded(conversation_group(conversation.pk), {"type": "chat.message", "entry": asdict(entry)})
    if visitor_away(conversation.pk) and not conversation.email.endswith(f"@{ANONYMOUS_DOMAIN}") and conversation.email:
        outbound_email_queue(replace(message, to=(conversation.email,)))  # its delivery then shows the email's


# --- Visitor presence -----------------------------------------------------------------------------------


def visitor_socket_opened(conversation_id: int) -> None:
    key = SOCKETS_KEY.format(conversation_id)
    cache.add(key, 0, timeout=SOCKETS_TTL)
    cache.incr(key)
    ChatConversation.objects.filter(pk=conversation_id).update(last_seen=timezone.now())


def visitor_socket_closed(conversation_id: int) -> None:
    with contextlib.suppress(ValueError):  # expired meanwhile: nobody is counted as present anyway
        cache.decr(SOCKETS_KEY.format(conversation_id))
    ChatConversation.objects.filter(pk=conversation_id).update(last_seen=timezone.now())


def visitor_away(conversation_id: int) -> bool:
    """No socket of the visitor is open (a lost count errs towards "away": an email too many, not a reply unseen)."""
    return (cache.get(SOCKETS_KEY.format(conversation_id)) or 0) <= 0


def agent_typing(*, ticket_id: int, name: str) -> bool:
    """Shows "<name> is typing…" in the visitor's widget; False when the ticket is no chat conversation."""
    conversation = conversation_for_ticket(ticket_id)
    if conversation is None or conversation.by_email:
        return False
    group_send_bounded(conversation_group(conversation.pk), {"type": "chat.typing", "name": name})
    return True


def visitor_typing(*, conversation: ChatConversation) -> None:
    if conversation.ticket_id is not None:
        helpdesk.ticket_typing_show(conversation.ticket_id, conversation.name or "The visitor")
