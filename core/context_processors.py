"""Template context every page needs: the current workspace and what the signed-in user may do."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name


def workspace(request: HttpRequest) -> dict:
    tenant = getattr(request, "tenant", None)
    in_workspace = tenant is not None and connection.schema_name != get_public_schema_name()
    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if user is not None and user.is_authenticated else None
    # Roles are defined in accounts; core only passes the flag templates need for the navigation.
    can_view_team = role in {"owner", "admin"}
    return {
        "workspace": tenant if in_workspace else None,
        "in_workspace": in_workspace,
        "can_view_team": can_view_team,
        "can_configure_ai": can_view_team,
        # The roles with leads.edit (accounts.roles) work the pipeline from the navigation; others reach leads
        # read-only from the customer pages.
        "can_work_leads": role in {"owner", "admin", "sales"},
        # Every role has quotes.view (read-only for agents and viewers, like leads); sellers also edit.
        "can_view_quotes": role is not None,
        # insights.view: everyone who works tickets or deals (accounts.roles), not viewers.
        "can_view_insights": role in {"owner", "admin", "agent", "sales"},
        "live_socket_url": live_socket_url(request) if in_workspace else "",
    }


def live_socket_url(request: HttpRequest) -> str:
    """Where the page opens its websocket: this host and port, or this host on LIVE_SOCKET_PORT when websockets
    are served by a process of their own (`make run`: gunicorn for HTTP, daphne for websockets)."""
    if not settings.LIVE_SOCKET_PORT:
        return "/ws/live/"
    scheme = "wss" if request.is_secure() else "ws"
    hostname = request.get_host().partition(":")[0]  # workspaces are named hosts, never IPv6 literals
    return f"{scheme}://{hostname}:{settings.LIVE_SOCKET_PORT}/ws/live/"
