"""In the browser: a scored company's health card (score, band, drivers, history chart) passes axe (AA contrast,
names, one h1), and the chart's points carry their values as tooltips; the list sorts by health."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import axe_violations, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def _scored_company(name: str) -> int:
    from datetime import timedelta

    from django.utils import timezone

    from customers import health
    from customers.tests.factories import ContactFactory
    from helpdesk.tests.factories import SatisfactionSurveyFactory, TicketFactory

    contact = ContactFactory(customer__name=name, customer__domain=f"{name.split()[-1]}.test")
    for days, rating in ((80, 5), (40, 4), (10, 2), (3, 1)):
        ticket = TicketFactory(requester=contact, customer=contact.customer, sentiment="negative")
        type(ticket).objects.filter(pk=ticket.pk).update(created=timezone.now() - timedelta(days=days))
        SatisfactionSurveyFactory(ticket=ticket, rating=rating, answered_at=timezone.now() - timedelta(days=days - 1))
    health.customer_health_backfill(days=30, customer_ids=[contact.customer_id])
    return contact.customer_id


def _delete(name: str) -> None:
    from customers.models import Customer
    from helpdesk.models import Ticket

    Ticket.objects.filter(customer__name=name).delete()
    Customer.objects.filter(name=name).delete()


def test_health_card_with_chart_passes_axe_and_shows_values(live_stack, live_data, browser):
    name = f"Healthcheck {uuid.uuid4().hex[:6]}"
    customer_id = live_data.run(lambda: _scored_company(name))
    live_data.add_cleanup(lambda: _delete(name))
    page = new_page(browser, reduced_motion="reduce")
    sign_in(page, live_stack, live_data.create_user("viewer"), next_path=f"/customers/{customer_id}/")

    card = page.locator("[data-testid=customer-health]")
    expect(card.locator("[data-testid=health-score]")).to_be_visible()
    expect(card.locator("[data-testid=health-driver]")).to_have_count(6)
    expect(card.locator("[data-testid=health-chart] circle")).to_have_count(31)
    assert "Health score over the last 90 days" in card.locator("desc").text_content()
    assert ": " in card.locator("[data-testid=health-chart] circle title").first.text_content()
    assert axe_violations(page) == []
