"""Content-Security-Policy on every response (django-csp), with the page's own websocket origin in connect-src.

The policy itself is CONTENT_SECURITY_POLICY in settings. What it cannot say statically is where a workspace page
opens its live socket: on its own host, and with `make run` on another port of it (LIVE_SOCKET_PORT), which
'self' does not cover. This middleware adds exactly that origin, per request.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase

DEFAULT_PORTS = {"ws": "80", "wss": "443"}


def live_socket_origins(request: HttpRequest) -> list[str]:
    """`ws://acme.localhost:8001`: the origins core.context_processors.live_socket_url points pages at."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return []
    hostname, _, own_port = host.rpartition(":") if ":" in host else (host, "", "")
    scheme = "wss" if request.is_secure() else "ws"
    origins = []
    for port in dict.fromkeys([own_port, str(settings.LIVE_SOCKET_PORT or "")]):
        suffix = f":{port}" if port and port != DEFAULT_PORTS[scheme] else ""
        origins.append(f"{scheme}://{hostname}{suffix}")
    return list(dict.fromkeys(origins))


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """First in MIDDLEWARE, so pages answered early (unknown workspace, 413) carry the policy too."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        update = dict(parts.update or {})
        update["connect-src"] = [*(update.get("connect-src") or []), *live_socket_origins(request)]
        parts.update = update
        return parts
