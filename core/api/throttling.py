"""API rate limit per workspace and user (or per workspace and IP for anonymous calls).

One counter per client and window of the rate's duration (a minute by default), counted with the cache's INCR:
DRF's own throttle reads and rewrites the list of every request's time in the last window, so each request cost
more as a client sent more (a list of 600 floats per call at the default 600/min). A fixed window lets a client
spend up to twice the rate across a window's boundary, the usual price of counting in O(1).
"""

import logging
import math

from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.breaker import RateLimitedLog
from core.client_ip import client_ip

# Counts kept in this process when the shared counters (the cache, or its database fallback) cannot be used.
_process_counts = LocMemCache("api-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_log = RateLimitedLog(logging.getLogger(__name__))


class TenantUserRateThrottle(SimpleRateThrottle):
    scope = "tenant_user"

    def get_rate(self) -> str | None:
        # Read the current settings, not the dict DRF captured at import time, so overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        # DRF's own reading trusts a client-sent X-Forwarded-For unless NUM_PROXIES is set; ours is the product's.
        return client_ip(request)

    def get_cache_key(self, request, view) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        # The cache's key function prefixes the schema as well; naming it here keeps keys readable in redis-cli.
        return f"throttle:{connection.schema_name}:{ident}"

    def allow_request(self, request, view) -> bool:
        """Never a 500 because the counters are unreachable: this process counts alone meanwhile (logged)."""
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        try:
            return self._counted(key)
        except Exception as error:  # whatever the cache raised, the request itself is fine
            _log.warning(
                "api-throttle",
                "API throttle counters unavailable (%s: %s): limiting per process",
                type(error).__name__,
                error,
            )
            self.cache = _process_counts
            return self._counted(key)

    def _counted(self, key: str) -> bool:
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        return self._count(f"{key}:{window}") <= self.num_requests

    def _count(self, key: str) -> int:
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request (or its counter expired): start it
            if self.cache.add(key, 1, timeout=self.duration + 1):
                return 1
            return self.cache.incr(key)  # another request started it in between

    def wait(self) -> float:
        """Seconds until the window ends (DRF sends them as Retry-After)."""
        return max(1, math.ceil(self.window_ends - self.now))
