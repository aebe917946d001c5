"""ASGI middleware for websockets: checks Host and Origin, resolves the workspace from Host, then the user from that
workspace's session.

A socket is refused, before any database lookup, when
- its Host is outside ALLOWED_HOSTS (the same `routing_hostname` check as every HTTP request), or
- its Origin is not a page of the very host it connects to. Sibling workspaces are same-site (alpha.example.com and
  beta.example.com share the registrable domain), so browsers send alpha's session cookie on a socket that a page on
  beta opens to alpha: only the Origin tells them apart. An Origin-less handshake is refused too: every browser sends
  Origin on websocket handshakes, the cookie-authenticated socket is only for our own pages, and a non-browser
  client that omits it is exactly the case where the header cannot vouch for anything.

Which origins a socket on `alpha.example.com` accepts (see `origin_allowed`):
- host: exactly the socket's own host name (no parent domain, no sibling, no "www." variant);
- scheme: https always; http only when the socket itself is not secure (a plain-http page must not read a wss feed);
- port: the socket's own port (one server for pages and sockets: tests, a single daphne, production behind a proxy
  on 443; a Host without a port stands for the default port of the Origin's scheme), or one of
  LIVE_SOCKET_ORIGIN_PORTS, the ports of the pages whose sockets this server takes (`make run`: gunicorn serves
  pages on PORT, daphne the sockets on PORT + 1).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpRequest
from django.http.request import split_domain_port
from django_tenants.utils import get_public_schema_name

from .routing import routing_hostname, tenant_for_hostname

logger = logging.getLogger(__name__)
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


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


def socket_is_secure(scope: dict) -> bool:
    """wss, directly or behind a proxy that says so in the header Django trusts for HTTP (SECURE_PROXY_SSL_HEADER)."""
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        meta_name, secure_value = proxy_header
        header = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        return _header(scope, header).split(",")[0].strip() == secure_value
    return False


def origin_allowed(scope: dict) -> bool:
    """True when the handshake's Origin is a page of the host the socket connects to (rules: module docstring)."""
    origin = _header(scope, b"origin").strip()
    host = _header(scope, b"host")
    if not origin or not host or origin == "null":
        return False
    try:
        parsed = urlsplit(origin)
        origin_port = parsed.port
    except ValueError:  # a malformed port
        return False
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.username or parsed.path not in ("", "/"):
        return False
    secure = socket_is_secure(scope)
    if parsed.scheme == "http" and secure:
        return False
    socket_domain, socket_port = split_domain_port(host)
    origin_domain, _ = split_domain_port(parsed.netloc)
    if not socket_domain or origin_domain != socket_domain:
        return False
    origin_port_number = origin_port if origin_port is not None else DEFAULT_PORTS[parsed.scheme]
    # A Host without a port means the default port of the scheme the browser used, which follows the page's: behind
    # a TLS-terminating proxy the socket arrives as plain ws, yet page and socket both used 443.
    socket_port_number = int(socket_port) if socket_port else DEFAULT_PORTS[parsed.scheme]
    return origin_port_number in {socket_port_number, *_page_ports()}


def _page_ports() -> set[int]:
    return {int(port) for port in getattr(settings, "LIVE_SOCKET_ORIGIN_PORTS", []) if str(port).isdigit()}


@database_sync_to_async
def _resolve(hostname: str, cookie_header: str) -> tuple[str | None, object]:
    connection.set_schema_to_public()
    tenant = tenant_for_hostname(hostname)
    if tenant is None or not tenant.is_active or tenant.schema_name == get_public_schema_name():
        return None, AnonymousUser()
    connection.set_tenant(tenant)
    try:
        key = _session_key(cookie_header, settings.SESSION_COOKIE_NAME)
        if not key:
            return tenant.schema_name, AnonymousUser()
        request = HttpRequest()
        request.session = SessionStore(session_key=key)
        user = auth.get_user(request)
        return tenant.schema_name, user
    finally:
        connection.set_schema_to_public()


class TenantAuthMiddleware:
    """Refuses foreign hosts and origins; puts `schema_name` and `user` in the scope, the user loaded in the
    workspace's schema only."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            hostname = routing_hostname(_header(scope, b"host"))
        except DisallowedHost:
            logger.warning("websocket refused: Host %r is not in ALLOWED_HOSTS", _header(scope, b"host")[:200])
            return await WebsocketDenier()(scope, receive, send)
        if not origin_allowed(scope):
            logger.warning(
                "websocket refused: Origin %r is not a page of %s", _header(scope, b"origin")[:200], hostname
            )
            return await WebsocketDenier()(scope, receive, send)
        schema_name, user = await _resolve(hostname, _header(scope, b"cookie"))
        scope = dict(scope, schema_name=schema_name, user=user)
        return await self.app(scope, receive, send)
