"""Day-boundary tests in a zone east of UTC: a local day's first hours are the day before in UTC, so a filter that
counted UTC days instead of the workspace's would fail them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

EAST_OF_UTC = "Asia/Tokyo"


def local(zone: ZoneInfo, day: date, hour: int = 0, minute: int = 0) -> datetime:
    """That wall-clock time on `day` in `zone`."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def in_november_2026(moment: datetime | None) -> bool:
    """Whether `moment` falls on a day of November 2026 in the workspace's time zone (the drill-down tests' range)."""
    from django.conf import settings

    if moment is None:
        return False
    return date(2026, 11, 1) <= moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date() <= date(2026, 11, 30)
