"""Metrics from the rollups: each figure with the previous period's, the filters (team, channel, category, tier,
agent), percentiles from the buckets, and never a query on another table than the rollups."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ai.tests.factories import AIFeedbackFactory, AIRunFactory
from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.models import SatisfactionSurvey
from helpdesk.tests.factories import CategoryFactory, SLAPolicyFactory, TeamFactory, TicketFactory
from insights import facade, services
from insights.contracts import Figure, MetricFilters
from leads.tests.factories import LeadFactory, PipelineFactory, StageFactory
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = timezone.localdate()
WEEK = MetricFilters(start=TODAY - timedelta(days=6), end=TODAY)  # previous: the 7 days before


@pytest.fixture(autouse=True)
def _clock_per_test(monkeypatch):
    """NOW, TODAY and WEEK taken per test, not at import: a run crossing midnight would otherwise plant rows and
    ask for weeks that end yesterday."""
    now = timezone.now()
    today = timezone.localdate(now)
    monkeypatch.setitem(globals(), "NOW", now)
    monkeypatch.setitem(globals(), "TODAY", today)
    monkeypatch.setitem(globals(), "WEEK", MetricFilters(start=today - timedelta(days=6), end=today))


def ago(days: float, **delta):
    return NOW - timedelta(days=days, **delta)


@pytest.fixture
def helpdesk_history():
    """This week: 4 tickets under an SLA (1 breached), 3 on team A; the week before: 2, both breached."""
    team_a, team_b = TeamFactory(), TeamFactory()
    billing = CategoryFactory()
    ann, bob = UserFactory(), UserFactory()
    policy = SLAPolicyFactory()
    enterprise = ContactFactory(customer=CustomerFactory(tier="enterprise"))
    starter = ContactFactory(customer=CustomerFactory(tier="starter"))
    this_week = [
        (team_a, "email", ann, enterprise, 10, 2, False, 5),
        (team_a, "email", ann, enterprise, 30, 5, True, 4),
        (team_a, "chat", bob, starter, 60, 9, False, 2),
        (team_b, "phone", bob, starter, 120, None, False, None),
    ]
    for n, (team, channel, agent, contact, first_minutes, solved_hours, breached, rating) in enumerate(this_week):
        created = ago(3 - n * 0.5)
        ticket = TicketFactory(
            team=team,
            channel=channel,
            assignee=agent,
            requester=contact,
            category=billing if channel == "email" else None,
            priority="urgent" if breached else "normal",
            sla_policy=policy,
            sla_breached=breached,
            created=created,
            first_responded_at=created + timedelta(minutes=first_minutes),
            status="solved" if solved_hours else "open",
            solved_at=created + timedelta(hours=solved_hours) if solved_hours else None,
        )
        if rating:
            SatisfactionSurvey.objects.create(ticket=ticket, rating=rating, answered_at=ticket.solved_at)
    for n in range(2):
        created = ago(10 + n)
        TicketFactory(
            team=team_a,
            channel="email",
            assignee=ann,
            requester=enterprise,
            sla_policy=policy,
            sla_breached=True,
            created=created,
            first_responded_at=created + timedelta(minutes=300),
            status="solved",
            solved_at=created + timedelta(hours=20),
        )
    TicketFactory(team=team_b, channel="email", requester=starter, created=ago(40))  # open for weeks: backlog
    services.rollups_repair_recent(days=0)
    return {"team_a": team_a, "team_b": team_b, "billing": billing, "ann": ann, "bob": bob}


def test_sla_metrics_with_the_previous_period_and_breaches_by_team_and_priority(helpdesk_history):
    sla = facade.sla_metrics(WEEK)

    assert sla.tracked == Figure(4, 2)
    assert sla.breached == Figure(1, 2)
    assert sla.adherence == Figure(0.75, 0.0)
    assert 8 <= sla.first_response_p50.value <= 40  # 10, 30, 60, 120 minutes (bucket estimate)
    assert 60 <= sla.first_response_p90.value <= 140
    assert sla.first_response_p50.previous == pytest.approx(300, rel=0.1)
    assert 2 * 60 <= sla.resolution_p50.value <= 6 * 60
    by_team = {line.key: line.figures for line in sla.by_team}
    assert by_team[helpdesk_history["team_a"].pk]["tracked"] == Figure(3, 2)
    assert by_team[helpdesk_history["team_b"].pk]["adherence"].value == 1.0
    by_priority = {line.key: line.figures for line in sla.by_priority}
    assert by_priority["urgent"]["breached"].value == 1


def test_filters_narrow_every_ticket_metric(helpdesk_history):
    team_a = facade.sla_metrics(MetricFilters(start=WEEK.start, end=WEEK.end, team_id=helpdesk_history["team_a"].pk))
    email = facade.ticket_volume_metrics(MetricFilters(start=WEEK.start, end=WEEK.end, channel="email"))
    billing = facade.ticket_volume_metrics(
        MetricFilters(start=WEEK.start, end=WEEK.end, category_id=helpdesk_history["billing"].pk)
    )
    starter = facade.ticket_volume_metrics(MetricFilters(start=WEEK.start, end=WEEK.end, tier="starter"))
    bob = facade.csat_metrics(MetricFilters(start=WEEK.start, end=WEEK.end, agent_id=helpdesk_history["bob"].pk))

    assert team_a.tracked == Figure(3, 2)
    assert email.created == Figure(2, 2)
    assert billing.created == Figure(2, 0)
    assert starter.created.value == 2
    assert starter.backlog == Figure(2, 1)  # the phone ticket and the old one; the week before: the old one
    assert bob.answers == Figure(1, 0)
    assert bob.average.value == 2


def test_volume_backlog_and_breakdowns(helpdesk_history):
    volume = facade.ticket_volume_metrics(WEEK)

    assert volume.created == Figure(4, 2)
    assert volume.solved == Figure(3, 2)
    assert volume.backlog == Figure(2, 1)
    assert volume.created.change == 1.0
    assert {line.key: line.figures["created"].value for line in volume.by_channel} == {
        "chat": 1,
        "email": 2,
        "phone": 1,
    }


def test_csat_and_agent_performance(helpdesk_history):
    csat = facade.csat_metrics(WEEK)
    agents = {line.key: line.figures for line in facade.agent_performance_metrics(WEEK).agents}

    assert csat.answers == Figure(3, 0)
    assert csat.average.value == pytest.approx(11 / 3)
    assert csat.satisfied.value == pytest.approx(2 / 3)
    assert csat.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    ann = agents[helpdesk_history["ann"].pk]
    assert ann["solved"] == Figure(2, 2)
    assert ann["csat_average"].value == 4.5
    assert agents[helpdesk_history["bob"].pk]["solved"] == Figure(1, 0)


def test_lead_velocity_and_quote_cycle_time():
    pipeline = PipelineFactory()
    opened, won, lost = (StageFactory(pipeline=pipeline, kind=kind) for kind in ("open", "won", "lost"))
    ann, bob = UserFactory(), UserFactory()
    LeadFactory(stage=won, owner=ann, value=Decimal("1000"), created=ago(12), won_at=ago(2))
    LeadFactory(stage=won, owner=ann, value=Decimal("3000"), created=ago(6), won_at=ago(1))
    LeadFactory(stage=lost, owner=bob, created=ago(5), lost_at=ago(1))
    LeadFactory(stage=won, owner=bob, value=Decimal("500"), created=ago(20), won_at=ago(9))
    LeadFactory(stage=opened, owner=bob, created=ago(3))
    LeadFactory(stage=opened, owner=ann, created=ago(30))
    QuoteFactory(owner=ann, status="accepted", total=Decimal("100"), created=ago(6), sent_at=ago(5), closed_at=ago(2))
    QuoteFactory(owner=bob, status="declined", created=ago(5), sent_at=ago(4), closed_at=ago(1))
    QuoteFactory(owner=bob, status="expired", created=ago(30), sent_at=ago(29), closed_at=ago(1))
    QuoteFactory(owner=ann, status="accepted", created=ago(12), sent_at=ago(11), closed_at=ago(8))
    services.rollups_repair_recent(days=0)

    leads = facade.lead_velocity_metrics(WEEK)
    quotes = facade.quote_cycle_time_metrics(WEEK)
    ann_quotes = facade.quote_cycle_time_metrics(MetricFilters(start=WEEK.start, end=WEEK.end, agent_id=ann.pk))

    assert leads.created == Figure(3, 1)
    assert leads.won == Figure(2, 1)
    assert leads.lost == Figure(1, 0)
    assert leads.win_rate.value == pytest.approx(2 / 3)
    assert leads.open_at_end == Figure(2, 2)  # a week ago: three created by then, one of them won
    assert leads.won_value["USD"] == Figure(4000, 500)
    assert 4 <= leads.cycle_days_p50.value <= 11
    assert leads.velocity_per_day["USD"].value > 0
    assert quotes.accepted == Figure(1, 1)
    assert (quotes.declined.value, quotes.expired.value) == (1, 1)
    assert quotes.win_rate == Figure(1 / 3, 1.0)
    assert 3.5 <= quotes.cycle_days_p50.value <= 4.5  # created → answer: 4 days each
    assert ann_quotes.accepted.value == 1 and ann_quotes.declined.value == 0


def test_ai_usage_per_feature_and_provider():
    runs = [
        AIRunFactory(feature="summarize", provider="local", cost_usd=Decimal("0"), created=ago(1)),
        AIRunFactory(feature="draft", provider="openai", cost_usd=Decimal("0.002"), created=ago(2)),
        AIRunFactory(feature="draft", provider="openai", cost_usd=Decimal("0.003"), status="error", created=ago(2)),
        AIRunFactory(feature="draft", provider="openai", cost_usd=Decimal("0.010"), created=ago(9)),
    ]
    AIFeedbackFactory(run=runs[0], outcome="accepted", edit_distance=None)
    AIFeedbackFactory(run=runs[1], outcome="edited", edit_distance=30)
    AIFeedbackFactory(run=runs[3], outcome="rejected", edit_distance=None)
    services.rollups_repair_recent(days=0)

    usage = facade.ai_usage_metrics(WEEK)

    assert usage.runs == Figure(3, 1)
    assert usage.cost_usd == Figure(pytest.approx(0.005), pytest.approx(0.010))
    assert usage.failed == Figure(1, 0)
    assert usage.acceptance == Figure(0.5, 0.0)
    assert usage.used == Figure(1.0, 0.0)
    assert usage.edit_distance.value == 30
    features = {line.key: line.figures for line in usage.by_feature}
    assert features["draft"]["runs"] == Figure(2, 1)
    assert {line.key for line in usage.by_provider} == {"local", "openai"}


def test_metrics_read_only_the_rollups_in_a_constant_number_of_queries(helpdesk_history):
    filters = MetricFilters(start=WEEK.start, end=WEEK.end, team_id=helpdesk_history["team_a"].pk, tier="enterprise")
    functions = [
        facade.sla_metrics,
        facade.csat_metrics,
        facade.ticket_volume_metrics,
        facade.agent_performance_metrics,
        facade.lead_velocity_metrics,
        facade.quote_cycle_time_metrics,
        facade.ai_usage_metrics,
    ]
    for function in functions:
        with CaptureQueriesContext(connection) as queries:
            function(filters)
        assert 1 <= len(queries) <= 5, function.__name__
        for query in queries.captured_queries:
            assert '"insights_dailyrollup"' in query["sql"], function.__name__
            other = [app for app in ("helpdesk", "leads", "quotes", "ai", "customers") if f'"{app}_' in query["sql"]]
            assert not other, (function.__name__, query["sql"])


def test_the_previous_period_has_the_same_length_just_before():
    filters = MetricFilters(start=TODAY - timedelta(days=29), end=TODAY)
    previous = filters.previous()

    assert previous.days == 30 and previous.end == filters.start - timedelta(days=1)
    with pytest.raises(ValueError):
        MetricFilters(start=TODAY, end=TODAY - timedelta(days=1))
