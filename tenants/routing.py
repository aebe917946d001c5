"""Host name → workspace: the one host check of HTTP and websockets, and a small, bounded in-process cache.

Both ways in (tenants.middleware for HTTP, tenants.channels_middleware for websockets) turn the Host header into a
host name with `routing_hostname`, which applies Django's ALLOWED_HOSTS check, drops the port and a leading "www.",
and only then ask `tenant_for_hostname`. A host outside ALLOWED_HOSTS never reaches the database or the cache.
"""

from __future__ import annotations

import threading
import time

from cachetools import TLRUCache
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http.request import split_domain_port, validate_host
from django_tenants.utils import remove_www

from .models import Domain, Tenant

# Saves in this process clear the cache at once (tenants.signals); other processes see a suspension within
# HIT_SECONDS. Unknown hosts are remembered only briefly, so a just-provisioned workspace opens right away.
HIT_SECONDS = 30.0
MISS_SECONDS = 2.0
# Every distinct Host header that passes ALLOWED_HOSTS (any *.localhost, any *.<base domain>) could add an entry:
# beyond this many, the least recently used go first, whatever their age. A few thousand workspaces fit.
MAX_ENTRIES = 4096
# What Django's request.get_host() accepts when DEBUG is on and ALLOWED_HOSTS is empty.
_DEBUG_ALLOWED_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


def _expires(_hostname: str, tenant: Tenant | None, now: float) -> float:
    return now + (HIT_SECONDS if tenant is not None else MISS_SECONDS)


_clock = time.monotonic  # a seam for the tests of expiry
_cache: TLRUCache[str, Tenant | None] = TLRUCache(maxsize=MAX_ENTRIES, ttu=_expires, timer=lambda: _clock())
_UNKNOWN = object()
# cachetools' caches are not thread-safe; gunicorn's threads and daphne's executor share this one.
_lock = threading.Lock()


def routing_hostname(raw_host: str) -> str:
    """The host name to route `raw_host` (a Host header, maybe with a port) by; DisallowedHost outside ALLOWED_HOSTS.

    The same rules as Django's `HttpRequest.get_host()` (including its DEBUG leniency) and django-tenants'
    `hostname_from_request` (port and "www." removed), for the requests and websockets that Django does not parse.
    """
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = _DEBUG_ALLOWED_HOSTS
    domain, _port = split_domain_port(raw_host)
    if not domain or not validate_host(domain, allowed_hosts):
        raise DisallowedHost(f"Invalid HTTP_HOST header: {raw_host!r}.")
    return remove_www(domain)


def tenant_cache_clear() -> None:
    with _lock:
        _cache.clear()


def tenant_cache_size() -> int:
    with _lock:
        return len(_cache)


def tenant_for_hostname(hostname: str) -> Tenant | None:
    """The workspace serving `hostname`, or None. Must be called with the connection on the public schema."""
    with _lock:
        cached = _cache.get(hostname, _UNKNOWN)  # a TLRUCache never answers with an expired entry
    if cached is not _UNKNOWN:
        return cached
    tenant = _lookup(hostname)
    with _lock:
        _cache[hostname] = tenant
    return tenant


def _lookup(hostname: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    return domain.tenant if domain else None
