"""Demo insights: the planted recurring defect is what real detection finds spiking, linked to its companies' open
leads and sent quotes, alerted once; seeding again adds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import Sum
from django.utils import timezone

from customers.demo import seed_customers
from helpdesk.demo import seed_helpdesk
from helpdesk.models import Ticket
from insights import alerts, demo, trends
from insights.models import DailyRollup, Trend, TrendAlert
from leads.demo import seed_leads
from leads.models import Lead
from quotes.demo import seed_quotes
from quotes.models import Quote

pytestmark = pytest.mark.django_db

SEED = 5


@pytest.fixture
def workspace(make_user):
    """A small demo workspace: 12 companies, two months of tickets, a pipeline and its quotes."""
    agents = [make_user("agent"), make_user("agent"), make_user("admin")]
    sellers = [make_user("sales"), agents[-1]]
    seed_customers(owners=sellers, customers=12, contacts=30, seed=SEED)
    seed_helpdesk(agents=agents, tickets=160, seed=SEED, days=60, articles=False)
    seed_leads(owners=sellers, leads=30, seed=SEED)
    seed_quotes(owners=sellers, quotes=12, seed=SEED)
    return agents, sellers


def _counts() -> tuple[int, ...]:
    return Ticket.objects.count(), Lead.objects.count(), Quote.objects.count(), Trend.objects.count()


def test_the_planted_defect_is_detected_with_its_companies_leads_and_quotes_and_alerted_once(
    workspace, django_capture_on_commit_callbacks
):
    agents, sellers = workspace
    with django_capture_on_commit_callbacks(execute=True):
        summary = demo.seed_insights(agents=agents, sellers=sellers, seed=SEED)

    planted = Ticket.objects.filter(tags__contains=[demo.DEFECT_TAG])
    assert planted.count() == demo.BURST_TICKETS and "recurring defect planted" in summary
    # The dashboards have the seeded history from the start: rollups rebuilt from every ticket.
    assert (
        DailyRollup.objects.filter(metric="created", grain="all").aggregate(n=Sum("count"))["n"]
        == Ticket.objects.count()
    )
    companies = set(planted.values_list("customer_id", flat=True))
    assert len(companies) == demo.COMPANIES
    (trend,) = Trend.objects.filter(kind=Trend.Kind.DEFECT)
    assert trend.status == Trend.Status.SPIKING and "export" in trend.name.lower()
    last_day = set(planted.filter(created__gte=timezone.now() - timedelta(days=1)).values_list("id", flat=True))
    assert last_day <= set(trend.ticket_ids) and len(last_day) == demo.BURST_TICKETS - demo.EARLY_TICKETS
    assert set(trend.customer_ids) >= set(planted.filter(id__in=last_day).values_list("customer_id", flat=True))
    impact = trends.trend_impact(trend)
    assert len({lead.customer_id for lead in impact.open_leads} & companies) >= demo.LEAD_COMPANIES
    sent = {quote.customer_id for quote in impact.pending_quotes if quote.status in demo.PENDING}
    assert len(sent & companies) >= demo.QUOTE_COMPANIES
    assert TrendAlert.objects.filter(trend=trend).count() == 1
    assert sorted(address for message in mail.outbox for address in message.to) == alerts.alert_recipients()
    assert all("export" in message.subject.lower() for message in mail.outbox)

    before = _counts()
    with django_capture_on_commit_callbacks(execute=True):
        assert demo.seed_insights(agents=agents, sellers=sellers, seed=SEED) == "recurring defect planted before"
    assert _counts() == before and TrendAlert.objects.count() == 1
    assert len(mail.outbox) == len(alerts.alert_recipients())
