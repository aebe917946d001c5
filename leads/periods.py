"""Named date ranges the lead list filters by ("this month", "this quarter"): a saved view keeps the name, so
"Closing this month" means the current month whenever it is opened."""

from __future__ import annotations

from datetime import date, timedelta

PERIODS: dict[str, str] = {
    "this_week": "This week",
    "this_month": "This month",
    "next_month": "Next month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
}
# Expected close dates that have passed on leads still open: "overdue" is a close period only.
CLOSE_PERIODS: dict[str, str] = {**PERIODS, "overdue": "Overdue"}


def _month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_range(name: str, *, today: date) -> tuple[date | None, date | None]:
    """First and last day of the named period around `today` (inclusive); (None, None) for an unknown name."""
    if name == "this_week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6)
    if name in ("this_month", "next_month"):
        start = _month_start(today, 1 if name == "next_month" else 0)
        return start, _month_start(start, 1) - timedelta(days=1)
    if name in ("this_quarter", "last_quarter"):
        start = _month_start(today, -((today.month - 1) % 3) - (3 if name == "last_quarter" else 0))
        return start, _month_start(start, 3) - timedelta(days=1)
    if name == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if name == "overdue":
        return None, today - timedelta(days=1)
    return None, None
