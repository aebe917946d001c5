"""Celery entry points of Microsoft 365 and Gmail polling (ids in, one service call each).

Beat runs `cloud_mailboxes_poll_fanout_task` in the public schema; it queues `cloud_mailboxes_poll_task` once per
workspace (tenants.services), which queues one `cloud_mailbox_poll_task` per mailbox, so a slow or failing
mailbox never holds up another.
"""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from ..services import cloudmail


@shared_task
def cloud_mailbox_poll_task(mailbox_id: int) -> str:
    """Fetches what is new in one Microsoft 365 / Gmail mailbox (failures are recorded on it, never raised)."""
    return cloudmail.cloud_mailbox_poll(mailbox_id)


@shared_task
def cloud_mailboxes_poll_task() -> int:
    """Queues a poll of every active cloud mailbox of this workspace."""
    return cloudmail.cloud_mailboxes_poll_queue()


@shared_task
def cloud_mailboxes_poll_fanout_task() -> int:
    return tenants_fan_out(cloud_mailboxes_poll_task)
