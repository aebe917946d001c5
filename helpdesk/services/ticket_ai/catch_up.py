"""Catching up analyses the broker never received (it was down) or that failed for good, run by the beat task."""

from __future__ import annotations

from datetime import timedelta

from ...models import HelpdeskSettings
from ...selectors import ticket_ai as selectors
from ..background import enqueue

# A ticket queued moments ago is probably on its way: only re-queue what has been pending longer.
PENDING_GRACE = timedelta(minutes=2)
CATCH_UP_LIMIT = 200


def analysis_catch_up(*, grace: timedelta = PENDING_GRACE, limit: int = CATCH_UP_LIMIT) -> int:
    """Queues the analysis of tickets left pending or failed; returns how many were queued (0 with the broker
    still down: they stay pending for the next round)."""
    if not HelpdeskSettings.current().analysis_enabled:
        return 0
    from ...tasks.ticket_ai import analyze_ticket_task  # tasks import the services

    queued = 0
    for ticket_id in selectors.tickets_awaiting_analysis(grace=grace, limit=limit):
        if not enqueue(analyze_ticket_task, ticket_id):
            break
        queued += 1
    return queued
