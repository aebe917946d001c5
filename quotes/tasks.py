"""Celery entry points of quotes: expiry of sent quotes past their validity date, and the owner's reminder before it
(both hourly). Beat runs the fan-outs in the public schema; they queue one copy per workspace (tenants.services)."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import reminders, services


@shared_task
def quotes_expire_task() -> int:
    """Sent and viewed quotes of this workspace whose validity date has passed become expired (idempotent)."""
    return services.quotes_expire_due()


@shared_task
def quotes_expire_fanout_task() -> int:
    return tenants_fan_out(quotes_expire_task)


@shared_task
def expiry_reminders_send_task() -> int:
    """Owners of quotes expiring soon in this workspace are reminded (each quote once, safe when runs overlap)."""
    return reminders.expiry_reminders_send()


@shared_task
def expiry_reminders_fanout_task() -> int:
    return tenants_fan_out(expiry_reminders_send_task)
