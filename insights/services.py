"""Insights' writes: rollup upkeep for an event and the repair of recent days (the logic is in insights.rollups)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from . import rollups
from .rollups import RepairReport

REPAIR_DAYS = 2  # the nightly window: today and yesterday, where late events and bulk writes land


def rollups_refresh(*, kind: str, ids: Iterable[int]) -> int:
    return rollups.rollups_refresh(kind=kind, ids=ids)


def rollups_repair_recent(*, days: int = REPAIR_DAYS) -> RepairReport:
    """Recomputes the last `days` days (today included); `days=0` rebuilds everything."""
    if days <= 0:
        return rollups.rollups_repair(since=None)
    return rollups.rollups_repair(since=timezone.localdate() - timedelta(days=days - 1))
