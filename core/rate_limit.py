"""A fixed-window counter for public endpoints (help center, chat widget, lead web forms): one cache INCR a try.

Cache keys are the workspace's own (django_tenants' make_key). A cache outage never closes the endpoint: the try is
allowed and a warning logged.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def over_limit(key: str, limit: int, window: int) -> bool:
    """Counts one try under `key`; True once more than `limit` came in the `window` (seconds) the first one opened."""
    try:
        cache.add(key, 0, timeout=window)
        return cache.incr(key) > limit
    except Exception:
        logger.warning("rate limit %s unavailable; allowing", key, exc_info=True)
        return False
