"""Reminders every app sends the same way: rows whose reminder time has passed are claimed, marked sent and handed
to the app's email, once each, however often (or however many at once) its beat job runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

REMINDER_BATCH = 500


def due_reminders_send(
    queryset: QuerySet,
    *,
    remind_field: str,
    sent_field: str,
    send_on_commit: Callable[[Any], None],
    now: datetime | None = None,
    batch: int = REMINDER_BATCH,
) -> int:
    """Calls `send_on_commit(row)` for each row of `queryset` (the app's filters: not done, an owner to write to)
    whose `remind_field` has passed and `sent_field` is still empty; returns how many.

    Rows are claimed with SKIP LOCKED and marked sent in the same transaction, so two overlapping runs never send one
    reminder twice; `send_on_commit` should send after commit (a mail server error is logged, not retried). A batch
    at a time: the next run (a minute later) takes the rest.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            queryset.select_for_update(skip_locked=True, of=("self",))
            .filter(**{f"{sent_field}__isnull": True, f"{remind_field}__lte": now})
            .order_by(remind_field, "pk")[:batch]
        )
        queryset.model.objects.filter(pk__in=[row.pk for row in due]).update(**{sent_field: now})
        for row in due:
            send_on_commit(row)
    return len(due)
