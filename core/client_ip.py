"""The one client-address policy: which IP a request comes from, for every rate limit and lockout.

`TRUSTED_PROXY_COUNT` says how many reverse proxies of ours stand in front of the app. Each of them appends
the address it received the request from to X-Forwarded-For, so with N proxies the N-th entry from the right
was written by our outermost proxy: that is the client. Everything left of it was sent by the client and
may be anything. With no proxy (the default) X-Forwarded-For is ignored and REMOTE_ADDR is the client.

Why not django-ipware: it reads some thirty headers by precedence (Client-IP, X-Real-IP, ...), any of which a
client can set when the proxy does not strip it, and ranks public over private addresses. A rate limit needs
exactly one rule an operator can state in one number; this is allauth's rule (ALLAUTH_TRUSTED_PROXY_COUNT is
fed from the same setting), minus its ImproperlyConfigured error on a short header.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"


def _clean(value: str | None) -> str | None:
    """The address in canonical form, or None for anything that is not an IP address (ports are dropped)."""
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip_from(meta: dict, trusted_proxies: int | None = None) -> str:
    """`client_ip` for a WSGI environ / request.META-like mapping (also the ASGI scope's headers, once mapped)."""
    count = settings.TRUSTED_PROXY_COUNT if trusted_proxies is None else trusted_proxies
    if count > 0:
        entries = [entry.strip() for entry in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if entry.strip()]
        if entries:
            # Fewer entries than proxies: the request skipped an outer proxy, so every entry was still written by
            # one of ours; the left-most is the farthest address they saw.
            address = _clean(entries[-count] if len(entries) >= count else entries[0])
            if address:
                return address
    return _clean(meta.get("REMOTE_ADDR")) or UNKNOWN


def client_ip(request: HttpRequest) -> str:
    """The client's address under the trusted-proxy policy; "unknown" (one shared bucket) if there is none."""
    return client_ip_from(request.META)
