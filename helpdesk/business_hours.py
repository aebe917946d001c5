"""Business-hours arithmetic: add business minutes to an instant, count the business minutes between two instants.

A calendar is weekly opening intervals in local wall-clock time (Monday = 0), holidays (whole local days closed)
and a time zone. Every interval is turned into two absolute instants for each local date through `zoneinfo`, so
a business minute is always a real minute: a 00:00–24:00 interval lasts 23 hours on the day clocks spring
forward and 25 on the day they fall back, and opening times that fall into a DST gap move to the first instant
that exists. Closing at 23:59 or later means "until midnight" (a TimeField cannot say 24:00).

`CompiledCalendar` does the math and memoises each local date's intervals; `calendar_compiled` builds one per
`BusinessCalendar` row and keeps it for the life of the process, keyed by schema, id and `updated` (every edit
of the calendar, its hours or holidays saves the row, so an edit is a new key).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from .models import BusinessCalendar

MIDNIGHT_FROM = time(23, 59)
# A workspace without calendars counts in these (helpdesk.services.sla.business_calendar_default creates them).
DEFAULT_HOURS = tuple((weekday, time(9), time(17)) for weekday in range(5))
# A calendar that is open at least once a week finds its next open minute within a few days; this bound only
# stops a calendar whose every day for ten years is a holiday from looping for ever.
MAX_DAYS = 3660
_ONE_DAY = timedelta(days=1)
_DAY_CACHE_LIMIT = 5000
_COMPILED_LIMIT = 512

Interval = tuple[datetime, datetime]


class CalendarNeverOpen(ValueError):
    """No business minute exists in the searched range (e.g. only holidays ahead)."""


class CompiledCalendar:
    """One calendar's rules, ready for fast arithmetic. Instants in, aware UTC instants out."""

    def __init__(
        self,
        *,
        timezone: str,
        hours: Iterable[tuple[int, time, time]] = (),
        holidays: Iterable[date] = (),
        always_open: bool = False,
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.holidays = frozenset(holidays)
        weekly: list[list[tuple[time, time | None]]] = [[] for _ in range(7)]
        for weekday, opens, closes in hours:
            weekly[weekday].append((opens, None if closes >= MIDNIGHT_FROM else closes))
        self.weekly = tuple(tuple(sorted(day)) for day in weekly)
        # No opening hours at all would make every due time "never": such a calendar counts every minute instead.
        self.always_open = always_open or not any(self.weekly)
        self._days: dict[date, tuple[Interval, ...]] = {}

    # --- Local dates to absolute intervals ------------------------------------------------------

    def day_intervals(self, day: date) -> tuple[Interval, ...]:
        """The open intervals of a local date as UTC instants, in order, overlaps merged."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        if len(self._days) > _DAY_CACHE_LIMIT:
            self._days.clear()
        intervals = () if day in self.holidays else self._build_day(day)
        self._days[day] = intervals
        return intervals

    def _build_day(self, day: date) -> tuple[Interval, ...]:
        merged: list[list[datetime]] = []
        for opens, closes in self.weekly[day.weekday()]:
            start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
            end_wall = datetime.combine(day + _ONE_DAY, time(0), tzinfo=self.zone) if closes is None else None
            end = (end_wall or datetime.combine(day, closes, tzinfo=self.zone)).astimezone(UTC)
            if end <= start:  # both ends inside one DST gap
                continue
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return tuple((start, end) for start, end in merged)

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    # --- Arithmetic -------------------------------------------------------------------------------

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` business minutes after `start` (before it, if negative).

        Landing exactly on a closing time returns that closing time, not the next opening.
        """
        _require_aware(start)
        # In UTC: adding to a datetime in a DST zone would add wall-clock time, not real time.
        start = start.astimezone(UTC)
        if not minutes:
            return start
        if self.always_open:
            return start + timedelta(minutes=minutes)
        if minutes > 0:
            return self._forward(start, timedelta(minutes=minutes))
        return self._backward(start, timedelta(minutes=-minutes))

    def _forward(self, start: datetime, remaining: timedelta) -> datetime:
        day = self._local_date(start)
        for _ in range(MAX_DAYS):
            for opens, closes in self.day_intervals(day):
                if closes <= start:
                    continue
                begin = max(opens, start)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += _ONE_DAY
        raise CalendarNeverOpen(f"No business hours within {MAX_DAYS} days after {start.isoformat()}.")

    def _backward(self, start: datetime, remaining: timedelta) -> datetime:
        day = self._local_date(start)
        for _ in range(MAX_DAYS):
            for opens, closes in reversed(self.day_intervals(day)):
                if opens >= start:
                    continue
                end = min(closes, start)
                available = end - opens
                if remaining <= available:
                    return end - remaining
                remaining -= available
            day -= _ONE_DAY
        raise CalendarNeverOpen(f"No business hours within {MAX_DAYS} days before {start.isoformat()}.")

    def between(self, start: datetime, end: datetime) -> float:
        """Business minutes from `start` to `end`; negative when `end` comes first."""
        _require_aware(start)
        _require_aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end < start:
            return -self.between(end, start)
        if self.always_open:
            return (end - start).total_seconds() / 60
        total = timedelta()
        day, last_day = self._local_date(start), self._local_date(end)
        while day <= last_day:
            for opens, closes in self.day_intervals(day):
                if closes <= start:
                    continue
                if opens >= end:
                    break
                total += min(closes, end) - max(opens, start)
            day += _ONE_DAY
        return total.total_seconds() / 60

    def is_open(self, instant: datetime) -> bool:
        if self.always_open:
            return True
        return any(opens <= instant < closes for opens, closes in self.day_intervals(self._local_date(instant)))

    @property
    def weekly_minutes(self) -> float:
        """Open minutes in a normal week (wall-clock), e.g. 2,400 for Mon–Fri 9–17."""
        if self.always_open:
            return 7 * 24 * 60
        total = 0
        for day in self.weekly:
            for opens, closes in day:
                end = 24 * 60 if closes is None else closes.hour * 60 + closes.minute
                total += end - (opens.hour * 60 + opens.minute)
        return total


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"Business-hours math needs aware datetimes, got {instant!r}.")


# --- Calendars from the database ------------------------------------------------------------------

_COMPILED: dict[tuple[str, int, datetime | None], CompiledCalendar] = {}


def calendar_compiled(calendar: BusinessCalendar) -> CompiledCalendar:
    """The compiled form of a calendar row, cached per process (schema, id, updated): two queries on a miss."""
    key = (connection.schema_name, calendar.pk, calendar.updated)
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > _COMPILED_LIMIT:
            _COMPILED.clear()
        compiled = CompiledCalendar(
            timezone=calendar.timezone,
            hours=calendar.hours.values_list("weekday", "opens", "closes"),
            holidays=calendar.holidays.values_list("date", flat=True),
            always_open=calendar.always_open,
        )
        _COMPILED[key] = compiled
    return compiled


def default_calendar_compiled() -> CompiledCalendar:
    """Mon–Fri 09:00–17:00 in settings.TIME_ZONE, for reads in a workspace that has no calendar row yet."""
    key = ("", 0, None)
    if key not in _COMPILED:
        _COMPILED[key] = CompiledCalendar(timezone=settings.TIME_ZONE, hours=DEFAULT_HOURS)
    return _COMPILED[key]


def add_business_minutes(calendar: CompiledCalendar | BusinessCalendar, start: datetime, minutes: float) -> datetime:
    return _compiled(calendar).add(start, minutes)


def business_minutes_between(calendar: CompiledCalendar | BusinessCalendar, start: datetime, end: datetime) -> float:
    return _compiled(calendar).between(start, end)


def _compiled(calendar: CompiledCalendar | BusinessCalendar) -> CompiledCalendar:
    return calendar if isinstance(calendar, CompiledCalendar) else calendar_compiled(calendar)
