"""Celery entry points of leads: activity reminders (every minute). Beat runs the fan-out in the public schema; it
queues one copy per workspace (tenants.services)."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import reminders


@shared_task
def activity_reminders_send_task() -> int:
    """Reminders due now in this workspace (each sent once, safe when two runs overlap)."""
    return reminders.activity_reminders_send()


@shared_task
def activity_reminders_fanout_task() -> int:
    return tenants_fan_out(activity_reminders_send_task)
