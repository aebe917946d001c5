"""Day-boundary tests in a zone east of UTC: a local day's first hours are the day before in UTC, so a filter that
counted UTC days instead of the workspace's would fail them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

EAST_OF_UTC = "Asia/Tokyo"


def local(zone: ZoneInfo, day: date, hour: int = 0, minute: int = 0) -> datetime:
    """That wall-clock time on `day` in `zone`."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
