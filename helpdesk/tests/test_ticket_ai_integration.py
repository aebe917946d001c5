"""Ticket analysis through the real parts: queued on the Redis broker after commit, run by a real Celery worker."""

from __future__ import annotations

import time
import uuid

import pytest

from customers.models import Contact, Customer
from helpdesk.models import Ticket, TicketEvent

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]

REPORT = (
    "Since the update the CSV export crashes. When I click Export on the reports page it shows error 500 "
    "instead of downloading the file. It should download the invoices as CSV."
)


def _wait_for_analysis(live_data, ticket_id: int, timeout: float = 120.0) -> Ticket:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ticket = live_data.run(lambda: Ticket.objects.get(pk=ticket_id))
        if ticket.ai_analysis_status in (Ticket.AnalysisStatus.DONE, Ticket.AnalysisStatus.FAILED):
            return ticket
        time.sleep(0.25)
    raise AssertionError(f"no analysis of ticket #{ticket_id} within {timeout:.0f} s")


def test_the_analysis_lands_after_create_through_the_worker(live_celery, live_data):
    from helpdesk.services.tickets import ticket_create

    domain = f"ticket-ai-{uuid.uuid4().hex[:8]}.test"  # a customer of its own, deleted afterwards

    def create() -> Ticket:
        return ticket_create(subject="Export fails with error 500", description=REPORT, requester_email=f"ia@{domain}")

    ticket = live_data.run(create)
    live_data.add_cleanup(lambda: Customer.objects.filter(domain=domain).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email=f"ia@{domain}").delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(pk=ticket.pk).delete())
    assert live_data.run(lambda: Ticket.objects.get(pk=ticket.pk).ai_analysis_status) in ("pending", "done")

    analysed = _wait_for_analysis(live_data, ticket.pk)

    assert analysed.ai_analysis_status == Ticket.AnalysisStatus.DONE, analysed.ai_suggestions.get("last_error")
    assert analysed.ai_suggestions["suggestions"]["type"]["value"] == "incident"
    assert analysed.language == "en" and analysed.ai_suggestions["provenance"]["provider"] == "local"
    events = live_data.run(lambda: list(TicketEvent.objects.filter(ticket_id=ticket.pk).values_list("kind", flat=True)))
    assert "ai_analysed" in events
