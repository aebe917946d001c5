"""Catching up analyses that failed for good or are pending too long, run by the beat task. (Analyses queued while
the broker was down wait in core's outbox and are sent when it is back.)"""

from __future__ import annotations

from datetime import timedelta

from core.outbox import enqueue

from ...selectors import ticket_ai as selectors
from ...selectors.config import helpdesk_settings_get

# A ticket queued moments ago is probably on its way: only re-queue what has been pending longer.
PENDING_GRACE = timedelta(minutes=2)
CATCH_UP_LIMIT = 200


def analysis_catch_up(*, grace: timedelta = PENDING_GRACE, limit: int = CATCH_UP_LIMIT) -> int:
    """Queues the analysis of tickets left pending or failed; returns how many were queued (a broker that is
    down keeps them in the outbox). A repeat of an analysis already on its way stores nothing (idempotent)."""
    if not helpdesk_settings_get().analysis_enabled:
        return 0
    from ...tasks.ticket_ai import analyze_ticket_task  # tasks import the services

    queued = 0
    for ticket_id in selectors.tickets_awaiting_analysis(grace=grace, limit=limit):
        enqueue(analyze_ticket_task, ticket_id)
        queued += 1
    return queued
