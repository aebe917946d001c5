"""Celery entry points of ticket writes (ids in, one service call each)."""

from __future__ import annotations

from celery import shared_task

from ..services import intake


@shared_task
def ticket_intake_task(ticket_id: int, actor_id: int | None = None) -> bool:
    """Queued when a ticket is created: assignment, live announcement, AI analysis (helpdesk.services.intake)."""
    return intake.ticket_intake(ticket_id=ticket_id, actor_id=actor_id)
