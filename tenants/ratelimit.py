"""Fixed-window counters in the cache, per client IP: how the public site limits workspace sign-ups."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    period_seconds: int

    def _key(self, client: str) -> str:
        return f"ratelimit:{self.name}:{client}"

    def exceeded(self, client: str) -> bool:
        return (cache.get(self._key(client)) or 0) >= self.limit

    def reset(self, client: str) -> None:
        cache.delete(self._key(client))

    def hit(self, client: str) -> None:
        key = self._key(client)
        # add() only succeeds for the first hit of a window, so the window is not extended by later hits.
        if cache.add(key, 1, timeout=self.period_seconds):
            return
        try:
            cache.incr(key)
        except ValueError:  # the window expired between add() and incr()
            cache.set(key, 1, timeout=self.period_seconds)


def signup_rate_limit() -> RateLimit:
    """Workspaces created per IP and hour; read at call time so tests and deployments can change it."""
    return RateLimit("signup", getattr(settings, "SWITCHBOARD_SIGNUPS_PER_IP_PER_HOUR", 5), 3600)
