"""Trend detection: planted clusters of deterministic vectors are found (or not), named, linked to revenue and alerted
once; quote hurdles, churn signals and the report only state counts read from the data."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from ai import facade as ai_facade
from ai.models import Embedding
from ai.providers.local.encoder import MODEL_NAME
from customers.models import Customer
from customers.tests.factories import ContactFactory, CustomerFactory, HealthSnapshotFactory
from helpdesk.facade import TOPIC_SOURCE
from helpdesk.models import Ticket
from helpdesk.tests.factories import CategoryFactory
from insights import alerts, clustering, hurdles, report, selectors, tasks, trends
from insights.churn import churn_signals_detect
from insights.models import Trend, TrendAlert
from insights.tests.factories import TrendFactory
from leads.models import Stage
from leads.tests.factories import LeadFactory, LeadStageChangeFactory, StageFactory
from quotes.tests.factories import ProductFactory, QuoteFactory, QuoteLineFactory

DIM = 384
NOW = timezone.now().replace(minute=0, second=0, microsecond=0)


def _directions(count: int, seed: int = 7) -> np.ndarray:
    return clustering.normalise(np.random.default_rng(seed).normal(size=(count, DIM)))


def _around(direction: np.ndarray, count: int, rng: np.random.Generator, spread: float = 0.03) -> np.ndarray:
    """Unit vectors about 0.75 cosine from `direction`: the same problem in different words."""
    return clustering.normalise(direction + rng.normal(scale=spread, size=(count, DIM)))


def _history(*, spike_before: int, spike_recent: int, topics: int = 8, days: int = 14, seed: int = 1):
    """(recent, baseline) vectors: `topics` steady topics at 2 a day, and a planted topic with `spike_before`
    tickets a day in the baseline and `spike_recent` in the last day."""
    rng = np.random.default_rng(seed)
    directions = _directions(topics + 1)
    recent = [_around(direction, 2, rng) for direction in directions[:topics]]
    baseline = [_around(direction, 2 * (days - 1), rng) for direction in directions[:topics]]
    recent.append(_around(directions[topics], spike_recent, rng))
    if spike_before:
        baseline.append(_around(directions[topics], spike_before * (days - 1), rng))
    return np.vstack(recent).astype(np.float32), np.vstack(baseline).astype(np.float32), directions[topics]


def _spikes(recent: np.ndarray, baseline: np.ndarray) -> list[clustering.Spike]:
    is_recent = np.r_[np.zeros(len(baseline), dtype=bool), np.ones(len(recent), dtype=bool)]
    return clustering.spikes_find(np.vstack([baseline, recent]), is_recent)


def test_a_cluster_far_above_its_own_baseline_spikes():
    recent, baseline, planted = _history(spike_before=0, spike_recent=8)
    spikes = _spikes(recent, baseline)
    assert len(spikes) == 1
    spike = spikes[0]
    assert spike.recent == 8 and spike.baseline == 0
    assert float(spike.centroid @ planted) > 0.9
    assert spike.p_value <= clustering.P_VALUE and spike.lift >= clustering.MIN_LIFT


def test_a_cluster_at_its_usual_volume_or_too_small_does_not_spike():
    recent, baseline, _ = _history(spike_before=8, spike_recent=8)
    assert _spikes(recent, baseline) == []
    recent, baseline, _ = _history(spike_before=0, spike_recent=clustering.MIN_SIZE - 1)
    assert _spikes(recent, baseline) == []


def test_keywords_name_the_cluster_from_its_own_words():
    texts = [
        "PDF export fails with error 500",
        "Exporting the invoice as PDF gives an error",
        "PDF export broken since the update",
        "Cannot export PDF, server error",
        "Password reset email never arrives",
        "How do I change my billing address",
        "The mobile app crashes on start",
    ]
    keywords = clustering.keywords_find(texts, [0, 1, 2, 3])
    assert keywords[0] in {"pdf", "export", "pdf export"}
    assert not {"password", "billing", "mobile"} & set(keywords)


# --- Detection over the database -------------------------------------------------------------------------------


def _tickets(vectors: np.ndarray, *, at, customers: list[Customer], subject: str) -> list[Ticket]:
    contacts = {customer.pk: ContactFactory(customer=customer) for customer in customers}
    rows = []
    for index, _ in enumerate(vectors):
        customer = customers[index % len(customers)]
        created = at - timedelta(minutes=index)
        rows.append(
            Ticket(
                subject=f"{subject} {index}",
                original_description=subject,
                requester=contacts[customer.pk],
                customer=customer,
                created=created,
            )
        )
    tickets = Ticket.objects.bulk_create(rows)
    Embedding.objects.bulk_create(
        Embedding(
            source=TOPIC_SOURCE, object_id=str(ticket.pk), model=MODEL_NAME, text_hash="x", vector=vector.tolist()
        )
        for ticket, vector in zip(tickets, vectors, strict=True)
    )
    return tickets


def _plant(*, spike_recent: int = 8, seed: int = 1, now=NOW) -> tuple[list[Ticket], list[Customer]]:
    """The steady topics spread over the two weeks before `now`, and `spike_recent` tickets about PDF export in its
    last hours from two companies."""
    recent, baseline, _ = _history(spike_before=0, spike_recent=spike_recent, seed=seed)
    steady = CustomerFactory()
    for day in range(1, 14):
        chunk = baseline[(day - 1) * 16 : day * 16]
        _tickets(chunk, at=now - timedelta(days=day, hours=1), customers=[steady], subject="Password reset question")
    _tickets(recent[:16], at=now - timedelta(hours=1), customers=[steady], subject="Password reset question")
    companies = [CustomerFactory(name="Acme Robotics"), CustomerFactory(name="Globex")]
    spike = _tickets(
        recent[16:], at=now - timedelta(minutes=5), customers=companies, subject="PDF export fails with error 500"
    )
    return spike, companies


def test_a_planted_defect_becomes_one_trend_with_its_tickets_companies_and_name():
    spike, companies = _plant()
    run = trends.recurring_defects_detect(window_days=14, now=NOW)
    assert run.tickets == run.embedded == 16 * 13 + 16 + len(spike)
    assert [trend.pk for trend in run.new] == [trend.pk for trend in run.spiking]
    (trend,) = run.new
    assert set(trend.ticket_ids) == {ticket.pk for ticket in spike}
    assert set(trend.customer_ids) == {company.pk for company in companies}
    assert {"pdf", "export"} & set(" ".join(trend.keywords).split())
    assert trend.figures["recent"] == len(spike) and trend.figures["baseline"] == 0
    assert trend.status == Trend.Status.SPIKING


def test_a_spike_holding_a_known_trends_tickets_continues_it_even_when_its_centroid_moved():
    spike = clustering.Spike(_directions(2)[0].astype(np.float32), np.arange(4), 4, 0, 0.5, 1e-6)
    known = TrendFactory(centroid=_directions(2)[1].tolist(), ticket_ids=[1, 2, 3, 99])
    assert trends._trend_for(spike, {1, 2, 7, 8}, [known], NOW) == (known, False)
    trend, created = trends._trend_for(spike, {5, 6, 7, 8}, [known], NOW)
    assert created and trend.pk is None


def test_tickets_without_a_topic_vector_are_embedded_once_by_the_local_model():
    contact = ContactFactory()
    ticket = Ticket.objects.create(
        subject="PDF export fails", original_description="Error 500", requester=contact, customer=contact.customer
    )
    assert trends.ticket_topics_index() == 1
    assert trends.ticket_topics_index() == 0
    ids, vectors = ai_facade.get_vectors(source=TOPIC_SOURCE, object_ids=[ticket.pk])
    assert ids == [str(ticket.pk)] and vectors.shape == (1, DIM)


def test_steady_volume_makes_no_trend():
    _plant(spike_recent=0)
    assert trends.recurring_defects_detect(window_days=14, now=NOW).spiking == []
    assert not Trend.objects.exists()


def test_a_trend_links_the_open_leads_and_pending_quotes_of_its_companies():
    _, (acme, globex) = _plant()
    open_lead = LeadFactory(customer=acme, value=Decimal("25000.00"))
    LeadFactory(customer=acme, stage=StageFactory(kind=Stage.Kind.WON))
    pending = QuoteFactory(customer=globex, status="sent", total=Decimal("1200"))
    QuoteFactory(customer=globex, status="accepted")
    LeadFactory(customer=CustomerFactory())  # a company without the problem
    (trend,) = trends.recurring_defects_detect(window_days=14, now=NOW).new
    impact = trends.trend_impact(trend)
    assert [lead.id for lead in impact.open_leads] == [open_lead.pk]
    assert [quote.id for quote in impact.pending_quotes] == [pending.pk]
    assert impact.pending_quotes[0].status_label == "Sent"
    assert impact.tickets and {row[3] for row in impact.tickets} <= {"New", "Open", "Pending", "On hold", "Solved"}
    assert impact.pipeline_value == {"USD": 25000.0}
    assert {company.name for company in impact.companies} == {"Acme Robotics", "Globex"}


def test_the_alert_is_sent_once_however_often_the_trend_spikes(django_capture_on_commit_callbacks):
    owner = UserFactory(role=Role.OWNER, email="owner@example.test")
    UserFactory(role=Role.VIEWER, email="viewer@example.test")  # no insights.view
    UserFactory(role=Role.AGENT, email="agent@example.test")  # holds it, but not an alert role
    _plant()
    with django_capture_on_commit_callbacks(execute=True):
        run = trends.recurring_defects_detect(window_days=14, now=NOW)
        assert alerts.defect_alerts_send(run) == 1
        # An hour later the same problem keeps coming: the same trend, no second alert.
        _tickets(
            _around(_directions(9)[8], 4, np.random.default_rng(5)).astype(np.float32),
            at=NOW + timedelta(minutes=30),
            customers=[CustomerFactory()],
            subject="PDF export still failing",
        )
        again = trends.recurring_defects_detect(window_days=14, now=NOW + timedelta(hours=1))
        assert again.new == [] and len(again.spiking) == 1
        assert alerts.defect_alerts_send(again) == 0
    assert Trend.objects.count() == 1 and TrendAlert.objects.count() == 1
    sent_to = sorted(address for message in mail.outbox for address in message.to)
    assert owner.email in sent_to and len(sent_to) == len(set(sent_to))  # once each
    assert not {"viewer@example.test", "agent@example.test"} & set(sent_to)
    assert "Acme Robotics" in mail.outbox[0].body and "PDF export" in mail.outbox[0].body


def test_a_key_accounts_health_drop_alerts_once_and_a_small_account_not_at_all(django_capture_on_commit_callbacks):
    UserFactory(role=Role.ADMIN, email="admin@example.test")
    owner = UserFactory(role=Role.SALES, name="Sam Seller")
    key = CustomerFactory(name="Initech", tier=Customer.Tier.ENTERPRISE, owner=owner)
    small = CustomerFactory(name="Tiny Co", tier=Customer.Tier.FREE)
    today = timezone.localdate(NOW)
    for customer in (key, small):
        HealthSnapshotFactory(customer=customer, day=today - timedelta(days=20), score=82)
        HealthSnapshotFactory(customer=customer, day=today, score=51)
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts.health_alerts_send(now=NOW) == 1
        assert alerts.health_alerts_send(now=NOW + timedelta(hours=1)) == 0
    assert {message.subject for message in mail.outbox} == {"Initech: health fell from 82 to 51"}
    assert len(mail.outbox) == len(alerts.alert_recipients())
    assert "Sam Seller" in mail.outbox[0].body
    assert Trend.objects.get(kind=Trend.Kind.HEALTH_DROP).key == str(key.pk)


def test_quote_hurdles_report_reasons_products_discounts_and_stages():
    widget, gadget = ProductFactory(name="Widget"), ProductFactory(name="Gadget")
    reasons = ["Too expensive for our budget", "The price is too high", "Budget too small, too expensive", ""]
    for index, reason in enumerate(reasons):
        quote = QuoteFactory(status="declined", decline_reason=reason, closed_at=NOW - timedelta(days=3))
        QuoteLineFactory(quote=quote, product=widget, discount=Decimal("25") if index < 2 else Decimal("0"))
    for _ in range(2):
        quote = QuoteFactory(status="accepted", closed_at=NOW - timedelta(days=2))
        QuoteLineFactory(quote=quote, product=gadget, discount=Decimal("5"))
    negotiation = StageFactory(name="Negotiation")
    lost = StageFactory(name="Lost", kind=Stage.Kind.LOST, pipeline=negotiation.pipeline)
    stalled = LeadFactory(stage=negotiation)
    LeadStageChangeFactory(lead=stalled, to_stage=negotiation, at=NOW - timedelta(days=40))
    gone = LeadFactory(stage=lost, lost_at=NOW - timedelta(days=5))
    LeadStageChangeFactory(lead=gone, from_stage=negotiation, to_stage=lost, at=NOW - timedelta(days=5))
    found = hurdles.quote_hurdles_detect(now=NOW)
    assert found.reasons[0].count == 3 and "expensive" in found.reasons[0].name.lower()
    assert [(rate.label, rate.lost, rate.won) for rate in found.products] == [("Widget", 4, 0), ("Gadget", 0, 2)]
    discounts = {rate.label: (rate.lost, rate.won) for rate in found.discounts}
    assert discounts == {"Over 20 %": (2, 0), "No discount": (2, 0), "Up to 10 %": (0, 2)}
    assert found.stages[0] == hurdles.StageFact("Negotiation", open=1, stalled=1, lost_from=1)


def test_churn_signals_name_the_owner_and_a_next_step():
    owner = UserFactory(name="Olga Owner")
    streaky = CustomerFactory(name="Streaky Ltd", owner=owner)
    leaving = CustomerFactory(name="Leaving Inc", owner=owner)
    contact = ContactFactory(customer=streaky)
    for minutes, sentiment in ((50, "positive"), (40, "negative"), (30, "negative"), (20, "negative")):
        Ticket.objects.create(
            subject="Slow again",
            original_description="Still slow",
            requester=contact,
            customer=streaky,
            sentiment=sentiment,
            created=NOW - timedelta(minutes=minutes),
        )
    cancel = Ticket.objects.create(
        subject="Our contract",
        original_description="We want to cancel our subscription at the end of the month.",
        requester=ContactFactory(customer=leaving),
        customer=leaving,
        created=NOW - timedelta(hours=2),
    )
    signals = {signal.kind: signal for signal in churn_signals_detect(now=NOW)}
    assert set(signals) == {"negative_streak", "cancellation"}
    assert signals["negative_streak"].customer.name == "Streaky Ltd"
    assert "last 3 analysed tickets" in signals["negative_streak"].detail
    assert signals["cancellation"].ticket_ids == (cancel.pk,)
    assert "cancel our subscription" in signals["cancellation"].detail
    assert all(signal.owner == "Olga Owner" and signal.next_step for signal in signals.values())


def test_the_report_states_only_numbers_read_from_the_data():
    billing, login = CategoryFactory(name="Billing"), CategoryFactory(name="Login")
    contact = ContactFactory()
    for days, category, count in ((2, billing, 5), (9, billing, 2), (3, login, 1), (10, login, 4)):
        for _ in range(count):
            Ticket.objects.create(
                subject="Question",
                original_description="A question",
                requester=contact,
                customer=contact.customer,
                category=category,
                created=NOW - timedelta(days=days),
            )
    TrendFactory(name="Pdf export, error", first_seen=NOW - timedelta(days=1), customer_ids=[1, 2])
    found = report.trend_report_generate(now=NOW)
    assert (found.tickets_now, found.tickets_before) == (6, 6)
    assert [(c.label, c.before, c.now) for c in found.rose] == [("Billing", 2, 5)]
    assert [(c.label, c.before, c.now) for c in found.fell] == [("Login", 4, 1)]
    figures = [found.tickets_now, found.tickets_before, found.period_days, len(found.new), len(found.churn_signals)]
    figures += [value for change in found.rose + found.fell for value in (change.now, change.before)]
    figures += [value for trend in found.new for value in (trend.figures["recent"], len(trend.customer_ids))]
    allowed = {str(value) for value in figures}
    for sentence in found.sentences():
        assert set(re.findall(r"\d+(?:\.\d+)?", sentence)) <= allowed, sentence


def test_the_weekly_report_and_the_detection_task_run_in_the_workspace(django_capture_on_commit_callbacks):
    UserFactory(role=Role.OWNER, email="boss@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.trend_report_send_task() == len(alerts.alert_recipients()) == 2
        assert tasks.trends_detect_task() == {"embedded": 0, "spiking": 0, "defect_alerts": 0, "health_alerts": 0}
    assert mail.outbox[0].subject.startswith("Trend report")
    assert "tickets were opened" in mail.outbox[0].body


def test_the_trends_page_lists_trends_with_their_revenue_link(client, login):
    customer = CustomerFactory(name="Acme Robotics")
    LeadFactory(customer=customer, title="Acme expansion")
    TrendFactory(name="Pdf export, error", customer_ids=[customer.pk])
    login("sales")
    response = client.get(reverse("insights:trend_list"))
    assert response.status_code == 200
    assert b"Pdf export, error" in response.content and b"Acme expansion" in response.content
    report_page = client.get(reverse("insights:trend_report"))
    assert report_page.status_code == 200 and b"tickets were opened" in report_page.content
    login("viewer")
    assert client.get(reverse("insights:trend_list")).status_code == 403
    assert client.get(reverse("insights:trend_report")).status_code == 403


def test_the_trends_page_links_each_trend_to_its_own_companies_in_the_same_queries_however_many(
    client, login, django_assert_max_num_queries
):
    for index in range(6):
        customer = CustomerFactory(name=f"Company {index}")
        LeadFactory(customer=customer, title=f"Deal of company {index}")
        TrendFactory(name=f"Defect {index}", customer_ids=[customer.pk])
    login("sales")

    rows = selectors.trend_list()
    assert {trend.name: [lead.title for lead in impact.open_leads] for trend, impact in rows} == {
        f"Defect {index}": [f"Deal of company {index}"] for index in range(6)
    }
    with django_assert_max_num_queries(5):  # the trends, then one read per facade
        selectors.trend_list()


pytestmark = pytest.mark.django_db
