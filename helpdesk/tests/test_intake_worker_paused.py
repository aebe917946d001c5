"""The real Celery worker stopped in the middle of a ticket's intake: every ticket is taken in once, none twice.

The worker process is paused (SIGSTOP) while it is inside the first ticket's intake transaction, blocked on that
ticket's row (the test holds its lock), so the pause falls exactly mid-intake. More tickets are created meanwhile;
their intakes wait on the broker. After SIGCONT every ticket is assigned, with exactly one assignment each.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from core.models import OutboxMessage
from customers.models import Contact, Customer
from helpdesk.models import HelpdeskSettings, Ticket, TicketEvent
from helpdesk.tests.factories import AgentProfileFactory

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]

TICKETS = 5


class RowLock:
    """Holds `SELECT … FOR UPDATE` on one ticket from a transaction of its own until released."""

    def __init__(self, tenant, ticket_id: int) -> None:
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(tenant, ticket_id), daemon=True)
        self.thread.start()
        assert self.locked.wait(10)

    def _hold(self, tenant, ticket_id: int) -> None:
        try:
            with tenant_context(tenant), transaction.atomic():
                Ticket.objects.select_for_update().get(pk=ticket_id)
                self.locked.set()
                self.release.wait(60)
        finally:
            connections.close_all()

    def free(self) -> None:
        self.release.set()
        self.thread.join(10)


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the test's transaction would see one frozen snapshot
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _until(condition, *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.05)


def test_tickets_created_while_the_worker_is_paused_mid_intake_are_each_taken_in_once(live_celery, live_data):
    from helpdesk.services.tickets import ticket_create

    domain = f"paused-{uuid.uuid4().hex[:8]}.test"
    agent = live_data.create_user("agent")
    live_data.run(lambda: AgentProfileFactory(user=agent.user, max_open_tickets=50))
    analysis_was = live_data.run(lambda: HelpdeskSettings.current().analysis_enabled)
    # Saved, not updated: the worker's copy of the settings (core.workspace_config) follows a save's signal.
    live_data.run(lambda: HelpdeskSettings.objects.update_or_create(pk=1, defaults={"analysis_enabled": False}))
    live_data.add_cleanup(
        lambda: HelpdeskSettings.objects.update_or_create(pk=1, defaults={"analysis_enabled": analysis_was})
    )
    live_data.add_cleanup(lambda: Customer.objects.filter(domain=domain).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email__endswith=f"@{domain}").delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(requester__email__endswith=f"@{domain}").delete())

    def create(n: int) -> int:
        return live_data.run(
            lambda: ticket_create(subject=f"Paused {n}", description="Hello.", requester_email=f"r{n}@{domain}").pk
        )

    worker = live_celery.server.process
    broker = redis.Redis.from_url(live_celery.redis_url)

    def drained() -> bool:
        return sum(broker.llen(queue) for queue in settings.TASK_QUEUES) == 0 and broker.hlen("unacked") == 0

    # Cleanups run last-added first: nothing is deleted while the worker may still be writing to these tickets.
    live_data.add_cleanup(lambda: _until(drained, what="the queue draining before the clean-up", timeout=60))
    lock = None
    try:
        worker.send_signal(signal.SIGSTOP)
        first = create(1)  # its intake waits on the broker
        lock = RowLock(live_data.tenant, first)
        worker.send_signal(signal.SIGCONT)
        _until(lambda: _waiting_on_a_lock() >= 1, what="the worker blocking inside the first intake")
        worker.send_signal(signal.SIGSTOP)  # mid-intake: its transaction is open, its message not yet acknowledged
        lock.free()
        others = [create(n) for n in range(2, TICKETS + 1)]
        assert broker.llen("interactive") == TICKETS - 1  # queued, waiting for the worker
    finally:
        if lock is not None:
            lock.free()
        worker.send_signal(signal.SIGCONT)
    ids = [first, *others]

    def assigned() -> int:
        return live_data.run(lambda: Ticket.objects.filter(pk__in=ids, assignee_id=agent.user.pk).count())

    _until(lambda: assigned() == TICKETS, what="every intake")
    _until(drained, what="the queue draining")

    def assignments() -> dict[int, int]:
        events = TicketEvent.objects.filter(ticket_id__in=ids, kind=TicketEvent.Kind.ASSIGNED)
        return {ticket_id: events.filter(ticket_id=ticket_id).count() for ticket_id in ids}

    assert live_data.run(assignments) == dict.fromkeys(ids, 1)
    assert not live_data.run(lambda: OutboxMessage.objects.exists())
    assert os.kill(worker.pid, 0) is None  # the worker survived the pauses
