"""The geometry of the health history chart on the company page: an inline SVG line drawn by the server, no script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .health import CRITICAL_UNDER, HEALTHY_FROM
from .models import HealthBand, HealthSnapshot

WIDTH, HEIGHT = 360, 140
LEFT, RIGHT, TOP, BOTTOM = 30, 8, 8, 22  # room for the y labels on the left and the dates below
Y_TICKS = (0, CRITICAL_UNDER, HEALTHY_FROM, 100)


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    title: str  # the tooltip: "Dec 3, 2026: 72, Healthy"


@dataclass(frozen=True)
class HealthChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    points: tuple[ChartPoint, ...]
    polyline: str
    y_ticks: tuple[tuple[float, int], ...]  # (y, score)
    x_labels: tuple[tuple[float, str, str], ...]  # (x, text, text-anchor)
    healthy_y: float
    critical_y: float
    summary: str  # the text alternative


def _y(score: float) -> float:
    return round(TOP + (100 - score) * (HEIGHT - TOP - BOTTOM) / 100, 1)


def health_chart(snapshots: Sequence[HealthSnapshot], *, days: int, today: date) -> HealthChart | None:
    """The chart of `snapshots` (oldest first) over the `days` days up to `today`; None without any."""
    if not snapshots:
        return None
    first_day = today - timedelta(days=days - 1)
    span = max(1, days - 1)
    plot = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return round(LEFT + (day - first_day).days * plot / span, 1)

    points = tuple(
        ChartPoint(x(s.day), _y(s.score), f"{s.day:%b %-d, %Y}: {s.score}, {HealthBand(s.band).label}")
        for s in snapshots
    )
    return HealthChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        y_ticks=tuple((_y(score), score) for score in Y_TICKS),
        x_labels=((LEFT, f"{first_day:%b %-d}", "start"), (WIDTH - RIGHT, f"{today:%b %-d}", "end")),
        healthy_y=_y(HEALTHY_FROM),
        critical_y=_y(CRITICAL_UNDER),
        summary=_summary(snapshots, days),
    )


def _summary(snapshots: Sequence[HealthSnapshot], days: int) -> str:
    first, last = snapshots[0], snapshots[-1]
    low = min(snapshots, key=lambda s: (s.score, s.day))
    high = max(snapshots, key=lambda s: (s.score, s.day))
    return (
        f"Health score over the last {days} days ({len(snapshots)} daily scores): {first.score} on {first.day:%b %-d}, "
        f"{last.score} on {last.day:%b %-d}; lowest {low.score} on {low.day:%b %-d}, highest {high.score} on "
        f"{high.day:%b %-d}."
    )
