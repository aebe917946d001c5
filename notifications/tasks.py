"""Celery entry points of notifications, ids only: a dispatch's fan-out and sends (interactive: somebody is told
now), the due sweep (quiet hours ended, retries) and digests (beat, per workspace)."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import services


@shared_task
def dispatch_fan_out_task(dispatch_id: int) -> int:
    return services.dispatch_fan_out(dispatch_id)


@shared_task
def deliveries_send_task(delivery_ids: list[int]) -> int:
    return services.deliveries_send(delivery_ids)


@shared_task
def deliveries_due_send_task() -> int:
    return services.deliveries_due_send()


@shared_task
def deliveries_due_send_fanout_task() -> int:
    return tenants_fan_out(deliveries_due_send_task)


@shared_task
def digests_send_task() -> int:
    return services.digests_send()


@shared_task
def digests_send_fanout_task() -> int:
    return tenants_fan_out(digests_send_task)
