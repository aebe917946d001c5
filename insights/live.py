"""Live dashboards: when rollups change, dashboard pages (and only they: they follow DASHBOARD_TOPIC) hear a nudge
over the websocket and their live widgets fetch themselves again, each with its own page's filters.

Nudges are coalesced: the first change schedules one push LIVE_DELAY_SECONDS later and later changes within
LIVE_WINDOW_SECONDS ride on it, so a burst of a thousand ticket updates costs one push and one refetch per widget.
The window is shorter than the delay, and this runs after the rollups committed: a change that finds the window
open committed before the scheduled push leaves, so the refetch sees it.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

from core.realtime import group_send_bounded, topic_group

DASHBOARD_TOPIC = "insights.dashboards"
LIVE_DELAY_SECONDS = 3
LIVE_WINDOW_SECONDS = 2
PENDING_KEY = "insights:live-pending"  # the cache key function adds the workspace's schema


def dashboards_changed(schedule) -> bool:
    """Schedules one push (`schedule(countdown)`) unless one is already coming; True when it scheduled."""
    if not cache.add(PENDING_KEY, 1, timeout=LIVE_WINDOW_SECONDS):
        return False
    schedule(LIVE_DELAY_SECONDS)
    return True


def dashboards_nudge_html() -> str:
    stamp = timezone.now().strftime("%H:%M:%S")
    return f'<span id="insights-live" hx-swap-oob="true" data-updated="{stamp}">Updated {stamp}</span>'


def dashboards_push() -> bool:
    """Tells every open dashboard of this workspace to refresh its live widgets."""
    return group_send_bounded(topic_group(DASHBOARD_TOPIC), {"type": "push.html", "html": dashboards_nudge_html()})
