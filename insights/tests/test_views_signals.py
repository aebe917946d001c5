"""The quote hurdles and churn signals pages: what they show with links, their empty states, the shared tabs, and the
hurdles kept per workspace for a few minutes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.models import Ticket
from insights import hurdles
from quotes.tests.factories import ProductFactory, QuoteFactory, QuoteLineFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()  # replaced per test (_now_per_test)


@pytest.fixture(autouse=True)
def _now_per_test(monkeypatch):
    """NOW taken per test, not at import: the views count back from their own now, per request."""
    monkeypatch.setitem(globals(), "NOW", timezone.now())


@pytest.fixture
def manager(client, login):
    login("owner")
    return client


def test_quote_hurdles_show_reasons_with_their_quotes_and_loss_rates_as_bars_with_numbers(manager):
    widget = ProductFactory(name="Widget")
    declined = []
    for discount in ("25", "0"):
        quote = QuoteFactory(status="declined", decline_reason="Too expensive", closed_at=NOW - timedelta(days=2))
        QuoteLineFactory(quote=quote, product=widget, discount=Decimal(discount))
        declined.append(quote)
    won = QuoteFactory(status="accepted", closed_at=NOW - timedelta(days=1))
    QuoteLineFactory(quote=won, product=widget, discount=Decimal("0"))

    response = manager.get(reverse("insights:quote_hurdles"))

    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="computed"' in page
    assert "Too expensive" in page and page.count('data-testid="text-cluster"') == 1
    for quote in declined:
        assert reverse("quotes:quote_detail", args=[quote.pk]) in page
    # The bar is decoration; the rate and counts are text beside it (No discount: 1 lost of 2, Over 20 %: 1 of 1).
    assert page.count('data-testid="loss-rate"') == 3  # two discount levels, one product
    assert "50 %" in page and "100 %" in page and 'aria-hidden="true"' in page
    assert page.index("No discount") < page.index("Over 20 %")  # levels in order, not by losses


def test_quote_hurdles_are_computed_once_per_workspace_for_a_few_minutes(manager, monkeypatch):
    calls = []
    real = hurdles.quote_hurdles_detect
    monkeypatch.setattr(hurdles, "quote_hurdles_detect", lambda **kwargs: calls.append(1) or real(**kwargs))
    manager.get(reverse("insights:quote_hurdles"))
    manager.get(reverse("insights:quote_hurdles"))
    assert len(calls) == 1


def test_an_empty_workspace_gets_explanations_not_blank_pages(manager):
    hurdles_page = manager.get(reverse("insights:quote_hurdles")).content.decode()
    churn_page = manager.get(reverse("insights:churn_signals")).content.decode()
    assert 'data-testid="hurdles-empty"' in hurdles_page
    assert 'data-testid="churn-empty"' in churn_page


def test_churn_signals_show_the_company_its_owner_the_evidence_and_the_next_step(manager):
    owner = UserFactory(name="Olga Owner", email="olga@example.test")
    leaving = CustomerFactory(name="Leaving Inc", owner=owner)
    ticket = Ticket.objects.create(
        subject="Our contract",
        original_description="We will not renew the contract next year.",
        requester=ContactFactory(customer=leaving),
        customer=leaving,
        created=NOW - timedelta(hours=2),
    )

    page = manager.get(reverse("insights:churn_signals")).content.decode()

    assert page.count('data-testid="churn-signal"') == 1
    assert reverse("customers:customer_detail", args=[leaving.pk]) in page
    assert reverse("tickets:ticket_detail", args=[ticket.pk]) in page
    assert "Olga Owner" in page and "mailto:olga@example.test" in page and "Next step:" in page


@pytest.mark.parametrize(
    ("name", "active"),
    [("insights:trend_list", "trends"), ("insights:quote_hurdles", "hurdles"), ("insights:churn_signals", "churn")],
)
def test_the_three_signal_pages_share_tabs_marking_the_current_one(manager, name, active):
    page = manager.get(reverse(name)).content.decode()
    assert 'data-testid="signals-nav"' in page
    assert f'active" aria-current="page" href="{reverse(name)}" data-testid="tab-{active}"' in page
