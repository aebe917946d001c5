"""Two workers running the beat task at once: the schedule's row lock makes one of them send, the other skip it,
and once the first commits the period's report is no longer due. Committed rows on real connections (threads), as
quotes/tests/test_public.py does for a concurrent accept and decline."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections
from django_tenants.utils import tenant_context

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.testing.live import run_in_thread
from insights import report_email
from insights.models import ReportSchedule
from insights.tests.factories import ReportScheduleFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)


@pytest.fixture
def committed_schedule(tenant):
    """A due weekly schedule to one agent, committed for other connections; removed afterwards with its people."""

    def setup():
        with tenant_context(tenant):
            agent = UserFactory(role=Role.AGENT, email="concurrent-agent@example.test")
            schedule = ReportScheduleFactory(recipients=[agent], next_due=MONDAY, format="pdf")
            return schedule.pk, [agent.pk, schedule.owner_id]

    schedule_id, user_ids = run_in_thread(setup)
    yield schedule_id

    def cleanup():
        with tenant_context(tenant):
            ReportSchedule.objects.filter(pk=schedule_id).delete()
            get_user_model().objects.filter(pk__in=user_ids).delete()

    run_in_thread(cleanup)


def _on_own_connection(function):
    try:
        return function()
    finally:
        connections.close_all()


def test_of_two_workers_sending_at_once_one_sends_and_the_other_skips(tenant, committed_schedule, monkeypatch):
    sending, release = threading.Event(), threading.Event()
    real_send = report_email.templated_email_send

    def slow_send(*args, **kwargs):
        sending.set()  # the first worker holds the schedule's row lock until its transaction commits
        assert release.wait(timeout=30)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(report_email, "templated_email_send", slow_send)

    def worker() -> bool:
        with tenant_context(tenant):
            return report_email.report_schedule_send_due(schedule_id=committed_schedule, now=MONDAY)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(_on_own_connection, worker)
        assert sending.wait(timeout=30)
        second = pool.submit(_on_own_connection, worker).result(timeout=30)  # skips the locked row
        release.set()
        assert first.result(timeout=30) is True
    assert second is False
    assert run_in_thread(lambda: _on_own_connection(worker)) is False  # sent: due again next Monday only
    assert [message.to for message in mail.outbox] == [["concurrent-agent@example.test"]]

    def state():
        with tenant_context(tenant):
            return ReportSchedule.objects.values_list("last_sent_at", "next_due").get(pk=committed_schedule)

    assert run_in_thread(state) == (MONDAY, datetime(2026, 12, 14, 7, 0, tzinfo=UTC))
