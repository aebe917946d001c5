"""Websocket routing of the web chat: the visitor's socket (/ws/chat/) comes from another site's page, so it cannot
pass the cookie-and-same-origin checks of the agents' socket (tenants.channels_middleware). Its own middleware only
resolves the workspace from Host; the consumer then checks the Origin against the widget's allowed origins."""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.core.exceptions import DisallowedHost
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.routing import routing_hostname, tenant_for_hostname

from .consumers import ChatVisitorConsumer

logger = logging.getLogger(__name__)
CHAT_SOCKET_PATH = "/ws/chat/"


def _host(scope: dict) -> str:
    for key, value in scope.get("headers", []):
        if key == b"host":
            return value.decode("latin1")
    return ""


@database_sync_to_async
def _tenant(hostname: str):
    with schema_context(get_public_schema_name()):  # the lookup reads the public schema; the thread keeps its own
        tenant = tenant_for_hostname(hostname)
    if tenant is None or not tenant.is_active or tenant.schema_name == get_public_schema_name():
        return None
    return tenant


class ChatTenantMiddleware:
    """Puts the workspace the Host names in the scope (`tenant`, `schema_name`); refuses unknown hosts."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            tenant = await _tenant(routing_hostname(_host(scope)))
        except DisallowedHost:
            tenant = None
        if tenant is None:
            logger.warning("chat socket refused: Host %r is no workspace", _host(scope)[:200])
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(dict(scope, tenant=tenant, schema_name=tenant.schema_name), receive, send)


class ChatSocketRouter:
    """Sends /ws/chat/ to the visitor's consumer and every other socket to `default` (the agents' stack)."""

    def __init__(self, default) -> None:
        self.default = default
        self.chat = ChatTenantMiddleware(ChatVisitorConsumer.as_asgi())

    async def __call__(self, scope, receive, send):
        if scope.get("path") == CHAT_SOCKET_PATH:
            return await self.chat(scope, receive, send)
        return await self.default(scope, receive, send)
