"""The chat visitor's websocket: only listed origins and known visitors get in, a visitor's message becomes a ticket
on the chat channel and shows in every tab of theirs, an agent's public reply reaches the visitor and is reported
delivered, and typing shows both ways (in-memory channel layer)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from core.realtime import topic_group, users_connected
from helpdesk.facade import chat_agents_online
from helpdesk.models import Ticket, TicketMessage
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import AgentProfileFactory
from helpdesk.tests.test_tickets_live import cookie_for, socket_for
from inbox.models import ChatConversation, OutboundEmail
from inbox.services import chat as services
from inbox.tests.factories import ChatWidgetFactory

pytestmark = pytest.mark.usefixtures("channels_db")

HOST = "alpha.localhost"
SITE = "https://shop.example.com"


def visitor_socket(key: str, token: str, *, origin: str = SITE, host: str = HOST) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", origin.encode())]
    return WebsocketCommunicator(
        import_string(settings.ASGI_APPLICATION), f"/ws/chat/?key={key}&token={token}", headers=headers
    )


@pytest.fixture
def visitor(db):
    """A widget listing SITE, and a conversation on it: (widget, conversation, token)."""
    widget = ChatWidgetFactory(allowed_origins=[SITE])
    conversation, token = services.conversation_start(widget=widget, origin=SITE, name="Vera", email="vera@shop.test")
    return widget, conversation, token


async def receive(socket: WebsocketCommunicator, kind: str, timeout: float = 5) -> dict:
    """The next message of this type (others, such as typing, are skipped)."""
    while True:
        message = json.loads(await socket.receive_from(timeout=timeout))
        if message["type"] == kind:
            return message


def test_a_page_of_an_unlisted_origin_is_refused_at_the_handshake(visitor):
    widget, _, token = visitor

    async def scenario():
        for origin in ("https://evil.example.com", "http://shop.example.com", "null", ""):
            socket = visitor_socket(widget.public_key, token, origin=origin)
            connected, code = await socket.connect()
            assert not connected, origin
            assert code == 4403, origin
        socket = visitor_socket("pk_unknown", token)
        assert (await socket.connect())[0] is False

    async_to_sync(scenario)()


def test_a_disabled_widget_accepts_no_socket(visitor):
    widget, _, token = visitor
    widget.enabled = False
    widget.save()

    async def scenario():
        connected, _ = await visitor_socket(widget.public_key, token).connect()
        assert not connected

    async_to_sync(scenario)()


def test_an_unknown_token_is_told_why_and_closed(visitor):
    widget, _, _ = visitor

    async def scenario():
        socket = visitor_socket(widget.public_key, "forged-token")
        connected, _ = await socket.connect()
        assert connected
        error = await receive(socket, "error")
        assert "unknown" in error["error"]
        assert (await socket.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4401}

    async_to_sync(scenario)()


def test_another_workspaces_widget_key_opens_nothing_here(visitor, other_tenant):
    widget, _, token = visitor

    async def scenario():
        # The key is alpha's; the socket goes to beta's host: beta has no such widget.
        socket = visitor_socket(widget.public_key, token, host="beta.localhost")
        assert (await socket.connect())[0] is False

    async_to_sync(scenario)()


def test_a_visitors_message_opens_a_chat_ticket_and_shows_in_each_of_their_tabs(visitor):
    widget, conversation, token = visitor

    async def scenario():
        first, second = visitor_socket(widget.public_key, token), visitor_socket(widget.public_key, token)
        assert (await first.connect())[0] and (await second.connect())[0]
        assert (await receive(first, "thread"))["entries"] == []
        await receive(second, "thread")
        await first.send_to(text_data=json.dumps({"type": "message", "body": "My parcel never came.\nOrder 1234"}))
        for socket in (first, second):
            shown = await receive(socket, "message")
            assert (shown["author"], shown["body"], shown["name"]) == (
                "customer",
                "My parcel never came.\nOrder 1234",
                "Vera",
            )
        await first.send_to(text_data=json.dumps({"type": "message", "body": "Any news?"}))
        await receive(first, "message")
        await first.disconnect()
        await second.disconnect()

    async_to_sync(scenario)()
    conversation.refresh_from_db()
    ticket = Ticket.objects.get(pk=conversation.ticket_id)
    assert (ticket.channel, ticket.subject, ticket.requester.email) == (
        "chat",
        "My parcel never came.",
        "vera@shop.test",
    )
    assert ticket.description == "My parcel never came.\nOrder 1234"
    assert list(ticket.messages.values_list("body", "channel")) == [("Any news?", "chat")]


def test_an_empty_or_oversized_message_is_refused_and_nothing_is_filed(visitor):
    widget, conversation, token = visitor

    async def scenario():
        socket = visitor_socket(widget.public_key, token)
        await socket.connect()
        await receive(socket, "thread")
        await socket.send_to(text_data=json.dumps({"type": "message", "body": "   "}))
        assert "Write a message" in (await receive(socket, "error"))["error"]
        await socket.send_to(text_data=json.dumps({"type": "message", "body": "x" * (services.MAX_BODY + 1)}))
        assert "at most" in (await receive(socket, "error"))["error"]
        await socket.disconnect()

    async_to_sync(scenario)()
    conversation.refresh_from_db()
    assert conversation.ticket_id is None


def test_an_agents_reply_reaches_the_visitor_and_is_reported_delivered(
    visitor, make_user, django_capture_on_commit_callbacks
):
    widget, conversation, token = visitor
    agent = make_user("agent", name="Dana Agent")

    def reply() -> int:
        ticket = Ticket.objects.get(pk=ChatConversation.objects.get(pk=conversation.pk).ticket_id)
        with django_capture_on_commit_callbacks(execute=True):
            message = ticket_services.message_add(ticket=ticket, actor=agent, body="It ships **today**.")
        return message.pk

    def delivery(message_id: int) -> str:
        return TicketMessage.objects.get(pk=message_id).delivery_status

    async def scenario():
        socket = visitor_socket(widget.public_key, token)
        await socket.connect()
        await receive(socket, "thread")
        await socket.send_to(text_data=json.dumps({"type": "message", "body": "Where is my parcel?"}))
        await receive(socket, "message")
        message_id = await database_sync_to_async(reply)()
        shown = await receive(socket, "message")
        assert (shown["author"], shown["name"], shown["body"], shown["id"]) == (
            "agent",
            "Dana Agent",
            "It ships **today**.",
            message_id,
        )
        for _ in range(50):  # the socket reports after it sent the reply on
            if await database_sync_to_async(delivery)(message_id) == "delivered":
                break
            await asyncio.sleep(0.05)
        assert await database_sync_to_async(delivery)(message_id) == "delivered"
        await socket.disconnect()
        # Back later: the thread has both sides, internal notes left out.
        await database_sync_to_async(
            lambda: ticket_services.message_add(
                ticket=Ticket.objects.get(pk=ChatConversation.objects.get(pk=conversation.pk).ticket_id),
                actor=agent,
                body="Customer seems upset",
                kind="note",
            )
        )()
        again = visitor_socket(widget.public_key, token)
        await again.connect()
        thread = await receive(again, "thread")
        assert [(entry["author"], entry["body"]) for entry in thread["entries"]] == [
            ("customer", "Where is my parcel?"),
            ("agent", "It ships **today**."),
        ]
        await again.disconnect()

    async_to_sync(scenario)()


def test_a_reply_on_a_chat_ticket_nobody_chats_on_is_marked_failed(db, make_user, django_capture_on_commit_callbacks):
    agent = make_user("agent")
    ticket = ticket_services.ticket_create(
        subject="Hi", description="Hi", requester_email="x@shop.test", channel="chat"
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_services.message_add(ticket=ticket, actor=agent, body="Hello?")
    message.refresh_from_db()
    assert message.delivery_status == "failed"


def test_typing_shows_on_the_ticket_page_and_in_the_widget(visitor, tenant):
    widget, conversation, token = visitor
    layer = get_channel_layer()

    async def scenario():
        socket = visitor_socket(widget.public_key, token)
        await socket.connect()
        await receive(socket, "thread")
        await socket.send_to(text_data=json.dumps({"type": "message", "body": "Hello"}))
        await receive(socket, "message")
        ticket_id = await database_sync_to_async(lambda: ChatConversation.objects.get(pk=conversation.pk).ticket_id)()
        page = await layer.new_channel()
        await layer.group_add(topic_group(f"ticket.{ticket_id}", schema=tenant.schema_name), page)
        await socket.send_to(text_data=json.dumps({"type": "typing"}))
        pushed = await asyncio.wait_for(layer.receive(page), 5)
        assert pushed["type"] == "push.html"
        assert 'id="chat-typing"' in pushed["html"] and "Vera is typing" in pushed["html"]
        # The agent types in the composer: the visitor sees who.
        shown = await database_sync_to_async(lambda: services.agent_typing(ticket_id=ticket_id, name="Dana"))()
        assert shown
        assert (await receive(socket, "typing"))["name"] == "Dana"
        await socket.disconnect()

    async_to_sync(scenario)()


def test_a_visitor_who_gave_no_email_still_gets_a_ticket_that_no_mail_goes_to(db):
    widget = ChatWidgetFactory(allowed_origins=[SITE], prechat_form=False)
    conversation, token = services.conversation_start(widget=widget, origin=SITE)

    async def scenario():
        socket = visitor_socket(widget.public_key, token)
        await socket.connect()
        await receive(socket, "thread")
        await socket.send_to(text_data=json.dumps({"type": "message", "body": "Just browsing"}))
        assert (await receive(socket, "message"))["body"] == "Just browsing"
        await socket.disconnect()

    async_to_sync(scenario)()
    conversation.refresh_from_db()
    ticket = Ticket.objects.get(pk=conversation.ticket_id)
    assert ticket.requester.email == f"visitor-{conversation.pk}@anonymous.invalid"
    assert ticket.channel == "chat"


def test_an_agent_is_online_while_one_of_their_pages_has_its_socket_open(make_user, tenant, other_tenant):
    agent = make_user("agent")
    make_user("agent")  # signed in nowhere
    away = make_user("agent")
    AgentProfileFactory(user=away, availability="away")
    cookies = cookie_for(agent), cookie_for(away)

    def in_alpha() -> int:
        # The agents' socket middleware leaves this (test) thread on the public schema after each handshake.
        with tenant_context(tenant):
            return chat_agents_online()

    async def online() -> int:
        return await database_sync_to_async(in_alpha)()

    async def scenario():
        assert await online() == 0
        first, second, away_page = socket_for(cookies[0]), socket_for(cookies[0]), socket_for(cookies[1])
        for socket in (first, second, away_page):
            assert (await socket.connect())[0]
        assert await online() == 1
        # Counted in this workspace only: the same user id in another workspace is nobody's open page.
        assert await database_sync_to_async(users_connected)([agent.pk], schema=other_tenant.schema_name) == set()
        await first.disconnect()
        assert await online() == 1  # the agent's other tab is still open
        await second.disconnect()
        assert await online() == 0
        await away_page.disconnect()

    async_to_sync(scenario)()
    connection.set_tenant(tenant)


def test_a_reply_after_the_visitor_left_is_emailed_to_them_too(visitor, make_user, django_capture_on_commit_callbacks):
    widget, conversation, token = visitor
    agent = make_user("agent", name="Dana Agent")

    def reply(body: str) -> TicketMessage:
        ticket = Ticket.objects.get(pk=ChatConversation.objects.get(pk=conversation.pk).ticket_id)
        with django_capture_on_commit_callbacks(execute=True):
            return ticket_services.message_add(ticket=ticket, actor=agent, body=body)

    async def scenario():
        socket = visitor_socket(widget.public_key, token)
        await socket.connect()
        await receive(socket, "thread")
        await socket.send_to(text_data=json.dumps({"type": "message", "body": "Where is my parcel?"}))
        await receive(socket, "message")
        await database_sync_to_async(reply)("Let me check.")  # the chat is open: it is shown there only
        await receive(socket, "message")
        await socket.disconnect()

    async_to_sync(scenario)()
    assert not OutboundEmail.objects.exists()

    away = reply("It ships today.")  # the visitor closed the page

    (email,) = OutboundEmail.objects.all()
    assert (email.to, email.ticket_message_id, email.body) == (["vera@shop.test"], away.pk, "It ships today.")


def test_a_reply_to_an_anonymous_visitor_who_left_is_not_emailed(db, make_user, django_capture_on_commit_callbacks):
    widget = ChatWidgetFactory(allowed_origins=[SITE], prechat_form=False)
    conversation, _ = services.conversation_start(widget=widget, origin=SITE)
    services.conversation_message_add(conversation=conversation, body="Just browsing")
    conversation.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_add(ticket=Ticket.objects.get(pk=conversation.ticket_id), actor=make_user(), body="Hi")

    assert not OutboundEmail.objects.exists()


def test_a_session_unused_for_a_month_has_expired(visitor, settings):
    widget, conversation, token = visitor
    ChatConversation.objects.filter(pk=conversation.pk).update(
        last_seen=timezone.now() - timedelta(days=settings.CHAT_VISITOR_TOKEN_DAYS, minutes=1)
    )

    async def scenario():
        socket = visitor_socket(widget.public_key, token)
        await socket.connect()
        assert (await receive(socket, "error"))["error"] == "This chat session is unknown or has expired."
        await socket.disconnect()

    async_to_sync(scenario)()
