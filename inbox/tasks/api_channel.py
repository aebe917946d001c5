"""Celery entry points of the API channel: forgetting Idempotency-Key answers older than a day."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from ..services import api_channel


@shared_task(ignore_result=True)
def idempotency_keys_purge_task() -> int:
    return api_channel.idempotency_keys_purge()


@shared_task
def idempotency_keys_purge_fanout_task() -> int:
    return tenants_fan_out(idempotency_keys_purge_task)
