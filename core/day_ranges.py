"""Calendar-day ranges the lists filter by (`?created_from=2026-11-01&created_to=2026-11-30`): the links a
dashboard's figures drill down through. Days are calendar days in settings.TIME_ZONE, both ends inclusive, as
insights' rollups count them; a range becomes [first day's start, the day after the last's start), so the filter
is served by an index on the timestamp column (a `__date` lookup is not)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db.models import Q

from .saved_views import query_string

ISO_DATE = "%Y-%m-%d"


@dataclass(frozen=True)
class DayRange:
    """One range a list offers: its label and the two query-string keys (`created_from`, `created_to`)."""

    label: str
    start: str
    end: str


@dataclass(frozen=True)
class DayRangeChip:
    """An active range as a removable chip: "Created 1 Nov 2026 – 30 Nov 2026" and the list's query without it."""

    text: str
    query: str


def day_field(label: str) -> forms.DateField:
    """A query-string day: ISO only (a link must mean the same day in every browser's locale)."""
    return forms.DateField(required=False, input_formats=[ISO_DATE], label=label, help_text=f"{label} (YYYY-MM-DD).")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def day_range_q(field: str, first: date | None, last: date | None) -> Q:
    """`field` (a timestamp) on the days from `first` to `last`, inclusive; an open end when either is None."""
    condition = Q()
    if first is not None:
        condition &= Q(**{f"{field}__gte": day_start(first)})
    if last is not None:
        condition &= Q(**{f"{field}__lt": day_start(last + timedelta(days=1))})
    return condition


def day_text(day: date) -> str:
    """ "1 Nov 2026": unambiguous in every locale."""
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True)
class DayRangeInput:
    """A range as the filter form's two date inputs show it (values as the query string has them)."""

    label: str
    start: str
    end: str
    first: str
    last: str


def day_range_inputs(params: Mapping[str, str], ranges: Sequence[DayRange]) -> list[DayRangeInput]:
    return [
        DayRangeInput(each.label, each.start, each.end, params.get(each.start, ""), params.get(each.end, ""))
        for each in ranges
    ]


def day_range_chips(params: Mapping[str, str], ranges: Sequence[DayRange]) -> list[DayRangeChip]:
    """A chip for each range `params` (a list's valid parameters) sets, each removing that range only."""
    chips = []
    for each in ranges:
        first, last = _parsed(params.get(each.start)), _parsed(params.get(each.end))
        if first is None and last is None:
            continue
        if first is not None and last is not None:
            text = f"{each.label} {day_text(first)} – {day_text(last)}"
        elif first is not None:
            text = f"{each.label} from {day_text(first)}"
        else:
            text = f"{each.label} until {day_text(last)}"  # type: ignore[arg-type]
        rest = {key: value for key, value in params.items() if key not in (each.start, each.end)}
        chips.append(DayRangeChip(text=text, query=query_string(rest)))
    return chips


def _parsed(value: str | None) -> date | None:
    try:
        return datetime.strptime(value, ISO_DATE).date() if value else None
    except ValueError:
        return None
