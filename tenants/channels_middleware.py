"""ASGI middleware for websockets: resolves the workspace from Host, then the user from that workspace's session."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name, remove_www

from .routing import tenant_for_hostname


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


def _session_key(cookie_header: str, cookie_name: str) -> str | None:
    for part in cookie_header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == cookie_name:
            return value
    return None


@database_sync_to_async
def _resolve(scope: dict) -> tuple[str | None, object]:
    from django.conf import settings

    connection.set_schema_to_public()
    hostname = remove_www(_header(scope, b"host").split(":")[0])
    tenant = tenant_for_hostname(hostname)
    if tenant is None or not tenant.is_active or tenant.schema_name == get_public_schema_name():
        return None, AnonymousUser()
    connection.set_tenant(tenant)
    try:
        key = _session_key(_header(scope, b"cookie"), settings.SESSION_COOKIE_NAME)
        if not key:
            return tenant.schema_name, AnonymousUser()
        request = HttpRequest()
        request.session = SessionStore(session_key=key)
        user = auth.get_user(request)
        return tenant.schema_name, user
    finally:
        connection.set_schema_to_public()


class TenantAuthMiddleware:
    """Puts `schema_name` and `user` in the scope; the user is loaded in the workspace's schema only."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        schema_name, user = await _resolve(scope)
        scope = dict(scope, schema_name=schema_name, user=user)
        return await self.app(scope, receive, send)
