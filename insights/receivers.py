"""Where insights listens to the other apps: the tickets, leads, quotes and AI runs a transaction changed are
gathered, and one rollup upkeep task per kind is queued once it commits (nothing if it rolls back).

Queued after the commit rather than on the outbox inside it: a save then costs no query for insights, and an
event lost between commit and broker (a process killed in that instant) is made good by the nightly repair.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction

from ai import contracts as ai_contracts
from core.outbox import enqueue
from helpdesk import contracts as helpdesk_contracts
from leads import contracts as leads_contracts
from quotes import contracts as quotes_contracts

from .rollups import AI_RUN, LEAD, QUOTE, TICKET

_local = threading.local()


class _Changes:
    """The ids one transaction changed, per kind; queued by its commit hook."""

    def __init__(self) -> None:
        self.ids: dict[str, set[int]] = defaultdict(set)

    def flush(self) -> None:
        from .tasks import rollups_refresh_task

        for kind, ids in self.ids.items():
            enqueue(rollups_refresh_task, kind, sorted(ids))
        self.ids.clear()


def _pending() -> _Changes:
    """This transaction's batch: the last one while its hook is still waiting for the commit, else a new one (a
    rollback, a rolled-back savepoint or a commit drops the hook, and with it the batch)."""
    changes = getattr(_local, "changes", None)
    waiting = changes is not None and any(hook[1] == changes.flush for hook in connection.run_on_commit)
    if waiting and connection.in_atomic_block:
        return changes
    changes = _local.changes = _Changes()
    return changes


def _changed(kind: str):
    def receiver(sender, *, ids, **kwargs) -> None:
        if not settings.INSIGHTS_ROLLUPS_ON_EVENTS:
            return
        changes = _pending()
        fresh = not changes.ids
        changes.ids[kind].update(ids)
        if fresh:
            transaction.on_commit(changes.flush, robust=True)  # outside a transaction: at once

    return receiver


def register() -> None:
    for signal, kind in (
        (helpdesk_contracts.tickets_changed, TICKET),
        (leads_contracts.leads_changed, LEAD),
        (quotes_contracts.quotes_changed, QUOTE),
        (ai_contracts.runs_changed, AI_RUN),
    ):
        signal.connect(_changed(kind), weak=False, dispatch_uid=f"insights-rollups-{kind}")
