"""The chat visitor's websocket (/ws/chat/?key=<public key>&token=<visitor token>), opened by the widget.

Refused before it opens (HTTP 403) when the widget is unknown or disabled, or the page's Origin is not one the
workspace listed. Opened but closed with 4401 (after an {"type": "error"} message saying why) when the visitor's
token names no conversation of that widget.

Visitor → server: {"type": "message", "body": "..."} and {"type": "typing"}.
Server → visitor: {"type": "thread", "entries": [...]} on connect, then {"type": "message", ...entry} for each new
message (the visitor's own included, so every open tab shows it), {"type": "typing", "name": ...}, and
{"type": "error", "error": "..."}.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from helpdesk import facade as helpdesk
from tenants.services import tenant_run

from .models import ChatConversation
from .selectors import chat as selectors
from .services import chat as services

REFUSED_ORIGIN = 4403
REFUSED_TOKEN = 4401
MAX_FRAME = 12_000
MESSAGES_PER_MINUTE = 20
TYPING_EVERY_SECONDS = 2.0


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


def _query(scope: dict) -> dict[str, str]:
    try:
        values = parse_qs(scope.get("query_string", b"").decode("ascii"), max_num_fields=5)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: items[0] for name, items in values.items() if items}


def _open(key: str, token: str, origin: str) -> tuple[str, int | None, list[dict]]:
    widget = selectors.widget_for_key(key)
    if widget is None or not selectors.widget_origin_allowed(widget, origin):
        return "origin", None, []
    conversation = selectors.conversation_for_token(widget, token)
    if conversation is None:
        return "token", None, []
    return "ok", conversation.pk, [asdict(entry) for entry in selectors.conversation_thread(conversation)]


class ChatVisitorConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        query = _query(self.scope)
        state, conversation_id, thread = await self._in_workspace(
            _open, query.get("key", ""), query.get("token", ""), _header(self.scope, b"origin")
        )
        if state == "origin":
            await self.close(code=REFUSED_ORIGIN)  # before accept: the handshake is answered 403
            return
        await self.accept()
        if state == "token":
            await self._send({"type": "error", "error": "This chat session is unknown or has expired."})
            await self.close(code=REFUSED_TOKEN)
            return
        self.conversation_id = conversation_id
        await self._in_workspace(services.visitor_socket_opened, conversation_id)
        self.group = services.conversation_group(conversation_id, schema=self.scope["schema_name"])
        self.sent: list[float] = []
        self.typed_at = 0.0
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._send({"type": "thread", "entries": thread})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self._in_workspace(services.visitor_socket_closed, self.conversation_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not getattr(self, "group", None) or not text_data or len(text_data) > MAX_FRAME:
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "message":
            await self._message(message.get("body"))
        elif message.get("type") == "typing":
            await self._typing()

    # --- Group events ----------------------------------------------------------------------------

    async def chat_message(self, event: dict) -> None:
        entry = event["entry"]
        await self._send({"type": "message", **entry})
        if entry.get("author") == "agent" and entry.get("id"):
            await self._in_workspace(
                helpdesk.message_delivery_set, message_id=entry["id"], status="delivered", detail="Shown in the chat."
            )

    async def chat_typing(self, event: dict) -> None:
        await self._send({"type": "typing", "name": event.get("name", "")})

    # --- Helpers ---------------------------------------------------------------------------------

    async def _message(self, body: object) -> None:
        now = time.monotonic()
        self.sent = [moment for moment in self.sent if now - moment < 60]
        if len(self.sent) >= MESSAGES_PER_MINUTE:
            await self._send({"type": "error", "error": "You are sending messages too fast: wait a moment."})
            return
        self.sent.append(now)
        try:
            entry = await self._in_workspace(self._add, body)
        except ValidationError as error:
            await self._send({"type": "error", "error": " ".join(error.messages)})
            return
        # Committed (the service's transaction is the outermost): every tab of this visitor shows it.
        await self.channel_layer.group_send(self.group, {"type": "chat.message", "entry": asdict(entry)})

    def _add(self, body: object):
        conversation = ChatConversation.objects.get(pk=self.conversation_id)
        return services.conversation_message_add(conversation=conversation, body=body)

    async def _typing(self) -> None:
        now = time.monotonic()
        if now - self.typed_at < TYPING_EVERY_SECONDS:
            return
        self.typed_at = now
        await self._in_workspace(self._typed)

    def _typed(self) -> None:
        conversation = ChatConversation.objects.get(pk=self.conversation_id)
        services.visitor_typing(conversation=conversation)

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload))

    async def _in_workspace(self, function, *args, **kwargs):
        tenant = self.scope["tenant"]
        return await database_sync_to_async(tenant_run)(tenant, lambda: function(*args, **kwargs))
