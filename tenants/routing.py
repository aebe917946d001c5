"""Host name → workspace, cached briefly in-process so a request costs no extra query or search_path switch."""

from __future__ import annotations

import time

from .models import Domain, Tenant

# Saves in this process clear the cache at once (tenants.signals); other processes see a suspension within
# HIT_SECONDS. Unknown hosts are remembered only briefly, so a just-provisioned workspace opens right away.
HIT_SECONDS = 30.0
MISS_SECONDS = 2.0
_cache: dict[str, tuple[float, Tenant | None]] = {}


def tenant_cache_clear() -> None:
    _cache.clear()


def tenant_for_hostname(hostname: str) -> Tenant | None:
    """The workspace serving `hostname`, or None. Must be called with the connection on the public schema."""
    now = time.monotonic()
    hit = _cache.get(hostname)
    if hit and hit[0] > now:
        return hit[1]
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    tenant = domain.tenant if domain else None
    _cache[hostname] = (now + (HIT_SECONDS if tenant else MISS_SECONDS), tenant)
    return tenant
