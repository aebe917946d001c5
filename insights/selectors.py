"""Reads of insights' own tables for its pages."""

from __future__ import annotations

from .models import Trend
from .trends import TrendImpact, trend_impacts

PAGE_SIZE = 20


def trend_list(*, kind: str = Trend.Kind.DEFECT, limit: int = PAGE_SIZE) -> list[tuple[Trend, TrendImpact]]:
    """The latest trends of one kind, spiking first, each with its support-to-revenue link (5 queries in all)."""
    rows = list(Trend.objects.filter(kind=kind).order_by("status", "-last_seen", "-id")[:limit])
    return list(zip(rows, trend_impacts(rows, ticket_limit=10), strict=True))
