"""Celery entry points of mailbox polling: beat's fan-out to every workspace, then one task per mailbox."""

from __future__ import annotations

from celery import shared_task

from core.outbox import enqueue
from tenants.services import tenants_fan_out

from ..selectors.mailboxes import mailboxes_due_ids
from ..services import mailboxes


@shared_task
def mailbox_poll_task(mailbox_id: int) -> dict[str, object]:
    """One poll of one mailbox; queues the next batch at once when the batch limit stopped it."""
    result = mailboxes.mailbox_poll(mailbox_id)
    if result.more:
        enqueue(mailbox_poll_task, mailbox_id)
    return {"imported": result.imported, "more": result.more, "error": result.error, "skipped": result.skipped}


@shared_task
def mailboxes_poll_task() -> int:
    """Queues a poll of every mailbox of this workspace that is due: a failing one never delays the others."""
    ids = mailboxes_due_ids(set(mailboxes.POLLERS))
    for mailbox_id in ids:
        enqueue(mailbox_poll_task, mailbox_id)
    return len(ids)


@shared_task
def mailboxes_poll_fanout_task() -> int:
    return tenants_fan_out(mailboxes_poll_task)
