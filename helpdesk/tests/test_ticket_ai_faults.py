"""Faults: the AI provider down, Celery without a worker, the broker unreachable. The ticket is always saved, and
what the broker could not take waits in core's outbox."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from ai import facade
from core.models import OutboxMessage
from core.testing.live import free_port
from helpdesk.models import Ticket, TicketEvent
from helpdesk.selectors import ticket_ai as selectors
from helpdesk.services import ticket_ai
from helpdesk.services.ticket_ai import analysis
from helpdesk.services.tickets import ticket_create
from helpdesk.tasks.ticket_ai import analyze_ticket_task, ticket_ai_maintenance_task

from .factories import AgentProfileFactory, TicketFactory
from .ticket_ai_support import analysed

pytestmark = pytest.mark.django_db

BUG = "When I click Export it shows error 500 instead of the file. It should download a CSV."


@pytest.fixture
def provider_down(monkeypatch):
    """Every provider failing: what the facade raises when no provider (not even the local one) could answer."""

    def unavailable(*args, **kwargs):
        raise facade.AIUnavailable("No provider could answer: local: model files missing.", run_id=None)

    monkeypatch.setattr(analysis.facade, "summarize", unavailable)
    return unavailable


@pytest.fixture
def broker_unreachable(no_celery_worker, settings):
    """Celery's broker URL points where nothing listens, as when Redis is down."""
    from core.testing.fixtures import _forget_celery_connections

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    _forget_celery_connections()


def _create(**fields) -> Ticket:
    return ticket_create(subject="Export fails", description=BUG, requester_email="dana@acme.test", **fields)


def test_provider_down_saves_the_ticket_marks_the_analysis_failed_and_retries(
    provider_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.ERROR):
        ticket = _create()  # the eager task fails inside the after-commit hook: logged, never raised

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.subject == "Export fails" and ticket.version == 1
    assert ticket.ai_analysis_status == Ticket.AnalysisStatus.FAILED
    assert "AI provider unavailable" in ticket.ai_suggestions["last_error"]["reason"]
    with pytest.raises(Retry) as retry:
        analyze_ticket_task.apply(args=[ticket.pk])
    assert isinstance(retry.value.exc, facade.AIUnavailable)
    assert retry.value.when >= 0  # Celery's autoretry scheduled another attempt with backoff


def test_a_failed_reanalysis_keeps_the_previous_analysis_visible(provider_down, monkeypatch, login, client):
    ticket = TicketFactory(original_description=BUG)
    monkeypatch.undo()
    ticket = analysed(ticket)
    previous = ticket.ai_suggestions["summary"]["text"]
    Ticket.objects.filter(pk=ticket.pk).update(original_description=BUG + " Now also for PDF.")
    monkeypatch.setattr(analysis.facade, "summarize", provider_down)

    with pytest.raises(facade.AIUnavailable):
        ticket_ai.ticket_analyze(ticket.pk)

    ticket.refresh_from_db()
    assert ticket.ai_analysis_status == Ticket.AnalysisStatus.FAILED
    assert ticket.ai_suggestions["summary"]["text"] == previous
    login("agent")
    html = client.get(f"/tickets/{ticket.pk}/ai/panel/", HTTP_HX_REQUEST="true").content.decode()
    assert "AI provider unavailable — retrying; the ticket is saved." in html
    assert "Showing the previous analysis." in html


def test_unusable_input_fails_without_a_retry(monkeypatch):
    def too_long(*args, **kwargs):
        raise facade.AIInputError("The text is 30,000 characters long; this workspace's limit is 20,000.")

    monkeypatch.setattr(analysis.facade, "detect_language", too_long)
    ticket = TicketFactory(original_description=BUG)

    assert analyze_ticket_task.apply(args=[ticket.pk]).get() is False  # no Retry raised

    ticket.refresh_from_db()
    assert ticket.ai_analysis_status == Ticket.AnalysisStatus.FAILED
    assert "cannot be analysed" in ticket.ai_suggestions["last_error"]["reason"]
    assert ticket.ai_suggestions["last_error"]["permanent"] is True
    Ticket.objects.filter(pk=ticket.pk).update(updated=timezone.now() - timedelta(minutes=10))
    assert ticket.pk not in selectors.tickets_awaiting_analysis(grace=timedelta(minutes=2), limit=50)
    panel = selectors.ai_panel(ticket=ticket, user=None)
    assert (panel.state, panel.retrying) == ("failed", False) and "30,000 characters" in panel.error


def test_a_deleted_ticket_is_nothing_to_analyse():
    assert ticket_ai.ticket_analyze(987654321) is None


@pytest.mark.integration
@pytest.mark.xdist_group("live")
def test_without_a_worker_the_ticket_is_saved_and_stays_pending_for_the_catch_up(
    no_celery_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create()

    ticket.refresh_from_db()
    assert ticket.ai_analysis_status == Ticket.AnalysisStatus.PENDING  # queued on a broker nobody consumes
    Ticket.objects.filter(pk=ticket.pk).update(updated=timezone.now() - timedelta(minutes=10))
    assert ticket.pk in selectors.tickets_awaiting_analysis(grace=timedelta(minutes=2), limit=50)
    assert ticket_ai.analysis_catch_up() >= 1  # queued again for the worker that will come back


@pytest.mark.integration
@pytest.mark.xdist_group("live")
def test_with_the_broker_unreachable_the_ticket_is_saved_at_once_and_its_analysis_waits_in_the_outbox(
    broker_unreachable, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.WARNING):
        ticket = _create()

    assert time.monotonic() - started < 5
    ticket.refresh_from_db()
    assert ticket.ai_analysis_status == Ticket.AnalysisStatus.PENDING
    assert "is unreachable" in caplog.text
    # The intake ran here instead of waiting; the analysis waits in the outbox, in this workspace, for the broker.
    waiting = OutboxMessage.objects.filter(args=[ticket.pk]).values_list("task_name", "schema_name")
    assert list(waiting) == [(analyze_ticket_task.name, "t_alpha")]


@pytest.mark.integration
@pytest.mark.xdist_group("live")
def test_with_the_broker_unreachable_the_intake_runs_in_the_creating_process(
    broker_unreachable, django_capture_on_commit_callbacks, make_user
):
    """Assignment and the live announcement cannot wait for a worker that will never hear of the ticket."""
    agent = AgentProfileFactory(user=make_user("agent", name="Ana Lima")).user
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create()

    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()
    assert ticket.ai_analysis_status == Ticket.AnalysisStatus.PENDING  # the analysis waits in the outbox
    assert not OutboxMessage.objects.filter(task_name="helpdesk.tasks.tickets.ticket_intake_task").exists()


def test_the_periodic_catch_up_analyses_what_was_left_pending_or_failed():
    stuck = TicketFactory(original_description=BUG, ai_analysis_status=Ticket.AnalysisStatus.PENDING)
    failed = TicketFactory(original_description=BUG, ai_analysis_status=Ticket.AnalysisStatus.FAILED)
    fresh = TicketFactory(original_description=BUG, ai_analysis_status=Ticket.AnalysisStatus.PENDING)
    Ticket.objects.filter(pk__in=[stuck.pk, failed.pk]).update(updated=timezone.now() - timedelta(minutes=10))

    result = ticket_ai_maintenance_task.apply().get()  # eager: the queued analyses run right away

    assert result["queued"] == 2
    statuses = dict(
        Ticket.objects.filter(pk__in=[stuck.pk, failed.pk, fresh.pk]).values_list("pk", "ai_analysis_status")
    )
    assert statuses == {stuck.pk: "done", failed.pk: "done", fresh.pk: "pending"}  # fresh: probably on its way
