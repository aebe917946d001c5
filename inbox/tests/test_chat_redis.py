"""The chat both ways through the Redis channel layer (the production layer): a visitor's message becomes a ticket
and shows in their other tab, the agent's reply reaches the visitor and is reported delivered, typing crosses too."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

from helpdesk.models import Ticket, TicketMessage
from helpdesk.services import tickets as ticket_services
from inbox.models import ChatConversation
from inbox.services.chat import agent_typing
from inbox.tests.test_chat_consumer import receive, visitor, visitor_socket  # noqa: F401  (visitor: a fixture)

pytestmark = pytest.mark.usefixtures("channels_db", "no_celery_worker")


def test_a_chat_round_trip_through_the_redis_channel_layer(visitor, make_user, django_capture_on_commit_callbacks):  # noqa: F811
    assert isinstance(get_channel_layer(), RedisChannelLayer)
    widget, conversation, token = visitor
    agent = make_user("agent", name="Dana Agent")

    def ticket() -> Ticket:
        return Ticket.objects.get(pk=ChatConversation.objects.get(pk=conversation.pk).ticket_id)

    def reply() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return ticket_services.message_add(ticket=ticket(), actor=agent, body="On its way.").pk

    async def scenario():
        tab, other_tab = visitor_socket(widget.public_key, token), visitor_socket(widget.public_key, token)
        assert (await tab.connect())[0] and (await other_tab.connect())[0]
        await receive(tab, "thread")
        await receive(other_tab, "thread")
        await tab.send_to(text_data=json.dumps({"type": "message", "body": "Where is order 77?"}))
        for socket in (tab, other_tab):
            assert (await receive(socket, "message"))["body"] == "Where is order 77?"
        message_id = await database_sync_to_async(reply)()
        for socket in (tab, other_tab):
            assert (await receive(socket, "message"))["body"] == "On its way."
        status = ""
        for _ in range(100):
            status = await database_sync_to_async(lambda: TicketMessage.objects.get(pk=message_id).delivery_status)()
            if status == "delivered":
                break
            await asyncio.sleep(0.05)
        assert status == "delivered"
        ticket_id = await database_sync_to_async(lambda: ticket().pk)()
        assert await database_sync_to_async(lambda: agent_typing(ticket_id=ticket_id, name="Dana"))()
        assert (await receive(tab, "typing"))["name"] == "Dana"
        await tab.disconnect()
        await other_tab.disconnect()

    async_to_sync(scenario)()
    assert ticket().channel == "chat"
