"""Absolute links that leave the product (emails): scheme, host and port come from settings, never from a request.

A request's Host header (or X-Forwarded-Host) is chosen by whoever sends it; a password-reset or invitation link
built from it could point a victim at an attacker's server. These links use SWITCHBOARD_URL_SCHEME, the
workspace's own domain (or SWITCHBOARD_BASE_DOMAIN for the public site) and SWITCHBOARD_URL_PORT instead.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

DEFAULT_PORTS = {"http": "80", "https": "443"}


def site_origin(hostname: str) -> str:
    """`https://acme.example.com`, or `http://acme.localhost:8000` in development."""
    scheme = settings.SWITCHBOARD_URL_SCHEME
    port = str(settings.SWITCHBOARD_URL_PORT or "")
    suffix = f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{hostname}{suffix}"


def workspace_hostname(slug: str) -> str:
    return f"{slug}.{settings.SWITCHBOARD_BASE_DOMAIN}"


def workspace_url(path: str = "/", *, hostname: str = "") -> str:
    """`path` on a workspace: `hostname` (a configured name, e.g. from `workspace_hostname`), else the current
    workspace's primary domain."""
    if not hostname:
        tenant = getattr(connection, "tenant", None)
        domain = tenant.get_primary_domain() if hasattr(tenant, "get_primary_domain") else None
        hostname = domain.domain if domain is not None else settings.SWITCHBOARD_BASE_DOMAIN
    return f"{site_origin(hostname)}{path}"


def public_site_url(path: str = "/") -> str:
    return f"{site_origin(settings.SWITCHBOARD_BASE_DOMAIN)}{path}"
