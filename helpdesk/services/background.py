"""Queueing helpdesk work on Celery without ever letting a broker outage reach the write that asked.

The write commits first; its follow-up is queued after the commit. When the broker cannot be reached the task is
not queued and the failure is logged; each caller has its way of catching up: the ticket intake runs in the
creating process (services.intake), a pending analysis and an article's embedding are picked up by their periodic
catch-ups (helpdesk.tasks).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# The broker answers in about a millisecond when it is up; refused or silent, give up quickly instead of
# blocking the request for kombu's default back-off (about six seconds).
BROKER_TIMEOUT_SECONDS = 1.0
BROKER_ERRORS = (OperationalError, ConnectionError, OSError, TimeoutError)


def enqueue(task: Any, *args: Any) -> bool:
    """Queues `task(*args)` now; False (logged, nothing raised) when the broker is unreachable."""
    app = task.app
    if app.conf.task_always_eager:
        task.apply_async(args=args)
        return True
    try:
        with app.pool.acquire(block=True, timeout=BROKER_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
            task.apply_async(args=args, connection=connection, retry=False)
    except BROKER_ERRORS as error:
        logger.warning("could not queue %s%r: the broker is unreachable (%s)", task.name, args, error)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """After the current transaction commits (at once outside one), queue `task(*args)` as `enqueue` does.

    Robust: whatever goes wrong in the callback (with eager tasks in development, the task itself) is logged
    by Django and never reaches the code that committed the ticket.
    """
    transaction.on_commit(lambda: enqueue(task, *args), robust=True)
