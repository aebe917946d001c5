"""Celery entry points of insights: rollup upkeep per event (queued on commit by insights.receivers) and the nightly
repair. Beat runs the fan-out in the public schema; it queues one repair per workspace (tenants.services)."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import services


@shared_task
def rollups_refresh_task(kind: str, ids: list[int]) -> int:
    return services.rollups_refresh(kind=kind, ids=ids)


@shared_task
def rollups_repair_task(days: int = services.REPAIR_DAYS) -> int:
    return services.rollups_repair_recent(days=days).sources


@shared_task
def rollups_repair_fanout_task() -> int:
    return tenants_fan_out(rollups_repair_task)
