"""Business-hours math: weekends, overnight gaps, lunch breaks, holidays, DST changes, and properties that hold for
any instant and duration (checked on thousands of seeded random cases; hypothesis is not a dependency here)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.business_hours import (
    CalendarNeverOpen,
    CompiledCalendar,
    add_business_minutes,
    business_minutes_between,
    calendar_compiled,
)
from helpdesk.tests.factories import BusinessCalendarFactory, BusinessHoursFactory, HolidayFactory

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def office(zone: str = "America/New_York", **extra) -> CompiledCalendar:
    """Mon–Fri 09:00–17:00."""
    return CompiledCalendar(timezone=zone, hours=[(day, time(9), time(17)) for day in range(5)], **extra)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


# --- Table tests --------------------------------------------------------------------------------

# (start, minutes, expected end), all New York wall-clock time; 2025-03-07 is a Friday.
ADD_CASES = [
    ("inside the day", (2025, 3, 5, 10, 0), 60, (2025, 3, 5, 11, 0)),
    ("exactly to closing stays at closing", (2025, 3, 5, 16, 0), 60, (2025, 3, 5, 17, 0)),
    ("overnight gap", (2025, 3, 5, 16, 0), 120, (2025, 3, 6, 10, 0)),
    ("before opening starts at opening", (2025, 3, 5, 6, 30), 30, (2025, 3, 5, 9, 30)),
    ("after closing starts next morning", (2025, 3, 5, 19, 0), 15, (2025, 3, 6, 9, 15)),
    ("friday afternoon over the weekend", (2025, 3, 7, 16, 0), 240, (2025, 3, 10, 12, 0)),
    ("saturday starts monday", (2025, 3, 8, 12, 0), 60, (2025, 3, 10, 10, 0)),
    ("a whole week", (2025, 3, 5, 9, 0), 5 * 480, (2025, 3, 11, 17, 0)),
    ("zero minutes is the start itself", (2025, 3, 8, 12, 0), 0, (2025, 3, 8, 12, 0)),
]


@pytest.mark.parametrize(("name", "start", "minutes", "expected"), ADD_CASES, ids=[case[0] for case in ADD_CASES])
def test_add_business_minutes(name, start, minutes, expected):
    calendar = office()
    assert calendar.add(local(NEW_YORK, *start), minutes) == local(NEW_YORK, *expected)


BETWEEN_CASES = [
    ("same interval", (2025, 3, 5, 10, 0), (2025, 3, 5, 12, 30), 150),
    ("across the night", (2025, 3, 5, 16, 0), (2025, 3, 6, 10, 0), 120),
    ("over a weekend", (2025, 3, 7, 16, 0), (2025, 3, 10, 12, 0), 240),
    ("all closed", (2025, 3, 8, 0, 0), (2025, 3, 9, 23, 0), 0),
    ("reversed is negative", (2025, 3, 6, 10, 0), (2025, 3, 5, 16, 0), -120),
]


@pytest.mark.parametrize(("name", "start", "end", "expected"), BETWEEN_CASES, ids=[case[0] for case in BETWEEN_CASES])
def test_business_minutes_between(name, start, end, expected):
    assert office().between(local(NEW_YORK, *start), local(NEW_YORK, *end)) == expected


def test_a_lunch_break_is_skipped():
    calendar = CompiledCalendar(timezone="Europe/Berlin", hours=[(0, time(9), time(12)), (0, time(13), time(17))])
    monday = date(2025, 3, 3)
    start = datetime.combine(monday, time(11), tzinfo=BERLIN)

    assert calendar.add(start, 90) == datetime.combine(monday, time(13, 30), tzinfo=BERLIN)
    assert calendar.between(start, datetime.combine(monday, time(14), tzinfo=BERLIN)) == 120


def test_holidays_are_closed_all_day():
    calendar = office(holidays=[date(2025, 3, 6)])
    start = local(NEW_YORK, 2025, 3, 5, 16, 0)

    assert calendar.add(start, 120) == local(NEW_YORK, 2025, 3, 7, 10, 0)
    assert calendar.between(start, local(NEW_YORK, 2025, 3, 7, 10, 0)) == 120


def test_results_are_aware_utc_instants():
    due = office().add(local(NEW_YORK, 2025, 3, 5, 10, 0), 30)
    assert due.tzinfo is UTC and due == datetime(2025, 3, 5, 15, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        office().add(datetime(2025, 3, 5, 10), 10)


# --- DST ----------------------------------------------------------------------------------------


def test_business_day_is_eight_real_hours_on_both_sides_of_a_dst_change():
    calendar = office()  # New York springs forward on Sunday 2025-03-09
    friday = local(NEW_YORK, 2025, 3, 7, 9, 0)
    monday = calendar.add(friday, 480 + 60)

    assert monday == local(NEW_YORK, 2025, 3, 10, 10, 0)  # 10:00 EDT, though UTC offsets differ by an hour
    assert calendar.between(friday, monday) == 540


def test_round_the_clock_interval_lasts_23_and_25_hours_on_change_days():
    calendar = CompiledCalendar(timezone="America/New_York", hours=[(day, time(0), time(23, 59)) for day in range(7)])
    spring = (local(NEW_YORK, 2025, 3, 9, 0, 0), local(NEW_YORK, 2025, 3, 10, 0, 0))
    autumn = (local(NEW_YORK, 2025, 11, 2, 0, 0), local(NEW_YORK, 2025, 11, 3, 0, 0))

    assert calendar.between(*spring) == 23 * 60
    assert calendar.between(*autumn) == 25 * 60


def test_opening_inside_the_spring_gap_moves_to_the_first_real_instant():
    calendar = CompiledCalendar(timezone="America/New_York", hours=[(6, time(2, 30), time(4))])
    sunday = date(2025, 3, 9)  # 02:00–03:00 does not exist that night
    ((opens, closes),) = calendar.day_intervals(sunday)

    assert opens.astimezone(NEW_YORK) == datetime(2025, 3, 9, 3, 30, tzinfo=NEW_YORK)
    assert closes.astimezone(NEW_YORK) == datetime(2025, 3, 9, 4, 0, tzinfo=NEW_YORK)


# --- Always open, never open --------------------------------------------------------------------


def test_always_open_counts_every_real_minute_even_across_dst():
    calendar = CompiledCalendar(timezone="America/New_York", always_open=True)
    start = local(NEW_YORK, 2025, 3, 8, 12, 0)  # the clocks spring forward the next night

    assert calendar.add(start, 24 * 60) == local(NEW_YORK, 2025, 3, 9, 13, 0)
    assert calendar.between(start, local(NEW_YORK, 2025, 3, 10, 12, 0)) == 47 * 60


def test_a_calendar_without_hours_counts_as_always_open():
    calendar = CompiledCalendar(timezone="UTC", hours=[])
    assert calendar.always_open


def test_a_calendar_closed_for_ever_raises_instead_of_looping():
    every_day = [date(2025, 1, 1) + timedelta(days=offset) for offset in range(4000)]
    calendar = CompiledCalendar(timezone="UTC", hours=[(0, time(9), time(10))], holidays=every_day)
    with pytest.raises(CalendarNeverOpen):
        calendar.add(datetime(2025, 1, 1, tzinfo=UTC), 10)


# --- Properties ---------------------------------------------------------------------------------

CALENDARS = {
    "new york office": office(),
    "berlin with lunch and holidays": CompiledCalendar(
        timezone="Europe/Berlin",
        hours=[(day, time(8), time(12)) for day in range(5)] + [(day, time(13), time(18)) for day in range(5)],
        holidays=[date(2025, 3, 31), date(2025, 4, 18), date(2025, 10, 27)],
    ),
    "sydney weekend shift to midnight": CompiledCalendar(
        timezone="Australia/Sydney", hours=[(5, time(18), time(23, 59)), (6, time(0), time(23, 59))]
    ),
    "always open": CompiledCalendar(timezone="Europe/London", always_open=True),
}


def _random_cases(seed: int, count: int = 300):
    chance = random.Random(seed)
    # Covers spring and autumn DST changes in both hemispheres.
    base = datetime(2025, 3, 1, tzinfo=UTC)
    for _ in range(count):
        start = base + timedelta(minutes=chance.randrange(0, 300 * 24 * 60))
        yield start, chance.randrange(1, 6000), chance.randrange(1, 6000)


@pytest.mark.parametrize("name", CALENDARS)
def test_counting_back_the_minutes_added_gives_the_minutes(name):
    calendar = CALENDARS[name]
    for start, minutes, _ in _random_cases(1):
        end = calendar.add(start, minutes)
        assert end > start
        assert calendar.between(start, end) == pytest.approx(minutes, abs=1e-6), (start, minutes)


@pytest.mark.parametrize("name", CALENDARS)
def test_adding_in_two_steps_equals_adding_once(name):
    calendar = CALENDARS[name]
    for start, first, second in _random_cases(2):
        assert calendar.add(calendar.add(start, first), second) == calendar.add(start, first + second)


@pytest.mark.parametrize("name", CALENDARS)
def test_subtracting_undoes_adding_up_to_the_closed_time_in_between(name):
    calendar = CALENDARS[name]
    for start, minutes, _ in _random_cases(3):
        end = calendar.add(start, minutes)
        back = calendar.add(end, -minutes)
        # Going back lands on the first open instant at or after `start`: no open minute lies between them.
        assert back >= start
        assert calendar.between(start, back) == 0


@pytest.mark.parametrize("name", CALENDARS)
def test_between_is_additive_and_never_exceeds_wall_clock_time(name):
    calendar = CALENDARS[name]
    for start, first, second in _random_cases(4):
        middle = start + timedelta(minutes=first)
        end = middle + timedelta(minutes=second)
        whole = calendar.between(start, end)
        assert whole == pytest.approx(calendar.between(start, middle) + calendar.between(middle, end))
        assert 0 <= whole <= (end - start).total_seconds() / 60


# --- Calendar rows ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_calendar_rows_compile_once_and_recompile_after_an_edit(django_assert_num_queries):
    calendar = BusinessCalendarFactory(timezone="Europe/Berlin")
    BusinessHoursFactory(calendar=calendar, weekday=0, opens=time(9), closes=time(17))
    HolidayFactory(calendar=calendar, date=date(2025, 3, 3))
    monday = datetime(2025, 3, 3, 10, tzinfo=BERLIN)

    with django_assert_num_queries(2):  # hours and holidays, once
        compiled = calendar_compiled(calendar)
    with django_assert_num_queries(0):
        assert calendar_compiled(calendar) is compiled
    assert add_business_minutes(calendar, monday, 60) == datetime(2025, 3, 10, 10, tzinfo=BERLIN)

    calendar.holidays.all().delete()
    calendar.save()  # what every edit through the settings pages does
    assert calendar_compiled(calendar) is not compiled
    assert business_minutes_between(calendar, monday, datetime(2025, 3, 3, 11, tzinfo=BERLIN)) == 60
