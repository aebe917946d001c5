"""Celery entry points of customers: task reminders (every minute), health scores (for one company after an
event, or for all of them by beat), digests (daily summaries, weekly health digests). Beat runs the fan-outs in
the public schema; each queues one copy per workspace (tenants.services).
"""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import digests, health, services


@shared_task
def task_reminders_send_task() -> int:
    """Reminders due now in this workspace (each sent once, safe when two runs overlap)."""
    return services.task_reminders_send()


@shared_task
def task_reminders_fanout_task() -> int:
    return tenants_fan_out(task_reminders_send_task)


@shared_task
def customer_health_refresh_task(customer_id: int) -> int:
    """One company's health after something happened on its tickets (queued by customers.receivers, debounced)."""
    health.health_debounce_release(customer_id)  # before reading: an event from now on queues a fresh run
    return health.customer_health_analyze(customer_ids=[customer_id])


@shared_task
def customers_health_refresh_task() -> int:
    """Every company of this workspace, in batches, and today's snapshot of each."""
    return health.customer_health_analyze()


@shared_task
def customers_health_refresh_fanout_task() -> int:
    return tenants_fan_out(customers_health_refresh_task)


@shared_task
def daily_summaries_task() -> int:
    """Yesterday's summary of every company of this workspace that had activity yesterday."""
    return digests.daily_summaries_generate()


@shared_task
def daily_summaries_fanout_task() -> int:
    return tenants_fan_out(daily_summaries_task)


@shared_task
def health_digests_task() -> int:
    """This week's health digest to every account owner of this workspace (once each a week)."""
    return digests.health_digests_send()


@shared_task
def health_digests_fanout_task() -> int:
    return tenants_fan_out(health_digests_task)
