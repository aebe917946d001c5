"""Celery entry points of customers: task reminders, every minute in every workspace.

Beat runs the fan-out in the public schema; it queues one copy per workspace (tenants.services).
"""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import services


@shared_task
def task_reminders_send_task() -> int:
    """Reminders due now in this workspace (each sent once, safe when two runs overlap)."""
    return services.task_reminders_send()


@shared_task
def task_reminders_fanout_task() -> int:
    return tenants_fan_out(task_reminders_send_task)
