"""The one websocket every signed-in page opens: it receives HTML fragments for the htmx `ws` extension."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer

from .realtime import USER, WORKSPACE, group_name


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        schema = self.scope.get("schema_name")
        if not schema or user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [group_name(WORKSPACE, schema=schema), group_name(USER, user.pk, schema=schema)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients only listen; anything they send is ignored."""

    async def push_html(self, event: dict) -> None:
        if event.get("exclude_user_id") == self.scope["user"].pk:
            return
        await self.send(text_data=event["html"])
