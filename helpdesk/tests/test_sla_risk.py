"""Breach risk: the transparent heuristic, the model learned from the workspace's history (and its fallbacks),
and the stored `breach_risk`."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from customers.tests.factories import ContactFactory
from helpdesk import sla_risk
from helpdesk.models import SLARiskModel, Ticket, TicketEvent
from helpdesk.selectors import sla as sla_selectors
from helpdesk.services import sla
from helpdesk.sla_risk import RiskInputs
from helpdesk.tasks.sla import sla_risk_model_train_task
from helpdesk.tests.factories import (
    AgentProfileFactory,
    BusinessCalendarFactory,
    SLAPolicyFactory,
    SLARiskModelFactory,
    TicketFactory,
)

T0 = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)


def inputs(**overrides) -> RiskInputs:
    """A resolution clock with 4 of 8 hours left, typical handling 3 hours, an assignee with a light queue."""
    values = {
        "target": "resolution",
        "minutes_left": 240.0,
        "target_minutes": 480.0,
        "elapsed_minutes": 240.0,
        "typical_minutes": 180.0,
        "assigned": True,
        "assignee_open": 3,
        "assignee_capacity": 25,
        "assignee_availability": "available",
    }
    return RiskInputs(**(values | overrides))


# --- Heuristic (no database) --------------------------------------------------------------------


def test_plenty_of_time_and_a_light_queue_is_low_risk():
    risk = sla_risk.heuristic(inputs(elapsed_minutes=10, minutes_left=470))

    assert risk.level == "low" and risk.probability < 0.2
    assert risk.source == "heuristic"
    assert "Assignee has a light queue" in risk.factors


def test_little_time_left_against_typical_handling_is_high_risk_and_says_why():
    risk = sla_risk.heuristic(inputs(elapsed_minutes=20, minutes_left=30, typical_minutes=240, priority="urgent"))

    assert risk.level == "high" and risk.probability >= 0.7
    assert risk.factors[0] == ("Resolution due in 30 min of business time; urgent tickets like this usually take 4 h")


def test_each_queue_and_customer_signal_adds_risk_with_its_own_sentence():
    calm = sla_risk.heuristic(inputs())
    stormy = sla_risk.heuristic(
        inputs(
            assignee_open=24,
            assignee_availability="away",
            sentiment="negative",
            tier="enterprise",
            reopened=2,
            team_open=60,
            team_size=3,
        )
    )

    assert stormy.probability > calm.probability + 0.4
    assert {
        "Assignee has 24 of at most 25 open tickets",
        "Assignee is away",
        "The customer sounds unhappy (negative sentiment)",
        "Enterprise customer: complex requests, high expectations",
        "Reopened twice",
        "The team has 20 open tickets per member",
    } <= set(stormy.factors)


def test_an_unassigned_ticket_is_riskier():
    assert sla_risk.heuristic(inputs(assigned=False)).probability > sla_risk.heuristic(inputs()).probability
    assert "Nobody is assigned yet" in sla_risk.heuristic(inputs(assigned=False)).factors


def test_without_history_half_the_target_is_the_expected_work():
    risk = sla_risk.heuristic(inputs(typical_minutes=None, elapsed_minutes=0, minutes_left=480))
    assert risk.factors[0].endswith("about 4 h of work expected")


def test_past_due_is_certain_and_no_clock_is_no_risk():
    overdue = sla_risk.heuristic(inputs(minutes_left=-25))
    assert (overdue.probability, overdue.level) == (1.0, "high")
    assert overdue.factors == ["Resolution was due 25 min of business time ago"]

    assert sla_risk.heuristic(RiskInputs(target=None)).probability == 0.0


# --- Stored risk --------------------------------------------------------------------------------


@pytest.fixture
def policy():
    return SLAPolicyFactory(
        calendar=BusinessCalendarFactory(always_open=True), first_response_minutes=60, resolution_minutes=480
    )


@pytest.mark.django_db
def test_assess_sla_risk_stores_the_probability(policy, make_user, django_assert_max_num_queries):
    agent = make_user()
    AgentProfileFactory(user=agent, availability="offline", max_open_tickets=5)
    now = timezone.now()
    ticket = TicketFactory(created=now - timedelta(minutes=50), assignee=agent, status=Ticket.Status.OPEN)
    sla.ticket_sla_refresh(ticket, now=now)

    with django_assert_max_num_queries(10):
        risk = sla.ticket_sla_risk_assess(ticket, now=now)

    ticket.refresh_from_db()
    assert ticket.breach_risk == risk.probability
    assert risk.level == "high"
    assert "Assignee is offline" in risk.factors
    assert risk.factors[0].startswith("First response due in 10 min of business time")


@pytest.mark.django_db
def test_refreshing_open_tickets_assesses_them_all_in_a_few_queries(policy, django_assert_max_num_queries):
    now = timezone.now()
    tickets = [TicketFactory(created=now - timedelta(minutes=offset)) for offset in (5, 30, 55)]
    for ticket in tickets:
        sla.ticket_sla_refresh(ticket, now=now)

    with django_assert_max_num_queries(12):
        updated = sla.sla_risk_refresh_open(now=now)

    risks = dict(Ticket.objects.values_list("pk", "breach_risk"))
    assert updated == 3
    assert risks[tickets[2].pk] > risks[tickets[1].pk] > risks[tickets[0].pk]


# --- The learned model --------------------------------------------------------------------------


def finished_history(policy, count: int, *, seed: int = 7) -> None:
    """Solved tickets whose breaches follow priority, sentiment and reopens, like a real queue's would."""
    chance = random.Random(seed)
    contact = ContactFactory()
    start = timezone.now() - timedelta(days=150)
    rows, reopened = [], []
    for number in range(count):
        created = start + timedelta(hours=8 * number)
        priority = chance.choice(["low", "normal", "high", "urgent"])
        negative = chance.random() < 0.3
        odds = {"low": 0.05, "normal": 0.1, "high": 0.3, "urgent": 0.55}[priority] + (0.3 if negative else 0.0)
        breached = chance.random() < odds
        due = created + timedelta(minutes=480)
        solved = (
            due + timedelta(minutes=chance.uniform(10, 300))
            if breached
            else created + timedelta(minutes=chance.uniform(60, 470))
        )
        rows.append(
            Ticket(
                subject=f"History {number}",
                original_description="Something broke.",
                requester=contact,
                customer=contact.customer,
                status=Ticket.Status.SOLVED,
                priority=priority,
                sentiment="negative" if negative else "positive",
                created=created,
                last_customer_message_at=created,
                first_response_due=created + timedelta(minutes=60),
                first_responded_at=created + timedelta(minutes=chance.uniform(5, 55)),
                resolution_due=due,
                solved_at=solved,
                sla_policy=policy,
                sla_breached=breached,
            )
        )
    Ticket.objects.bulk_create(rows)
    for ticket in Ticket.objects.filter(subject__startswith="History "):
        if chance.random() < (0.3 if ticket.sla_breached else 0.05):
            reopened.append(TicketEvent(ticket=ticket, kind=TicketEvent.Kind.REOPENED, created=ticket.created))
    TicketEvent.objects.bulk_create(reopened)


@pytest.mark.django_db
def test_too_little_history_keeps_the_heuristic(policy):
    finished_history(policy, 299)

    assert sla.sla_risk_model_train() is None
    assert sla_selectors.risk_model_parameters() is None


@pytest.mark.django_db
def test_a_model_learns_from_300_finished_tickets_and_is_used_after(policy):
    finished_history(policy, 400)

    model = sla.sla_risk_model_train()

    assert model.samples == 400 and model.holdout_samples == 80
    assert 0.15 < model.breached_share < 0.45
    assert model.auc > 0.7  # on the newest 80 tickets, never seen in training
    assert model.heuristic_auc is not None and 0 <= model.accuracy <= 1
    assert json.loads(json.dumps(model.parameters)) == model.parameters  # plain numbers, nothing to unpickle
    assert model.parameters["features"] == list(sla_risk.FEATURES)
    assert set(model.parameters["typical_minutes"]["resolution"]) == {"low", "normal", "high", "urgent"}

    now = timezone.now()
    ticket = TicketFactory(created=now - timedelta(minutes=10), priority="urgent", sentiment="negative")
    sla.ticket_sla_refresh(ticket, now=now)
    risk = sla.ticket_sla_risk_assess(ticket, now=now)
    calm = TicketFactory(created=now - timedelta(minutes=10), priority="low")
    sla.ticket_sla_refresh(calm, now=now)

    assert risk.source == "model"
    right = round(model.auc * 10)
    assert risk.factors[-1] == f"Learned from 400 finished tickets (right {right} times in 10 on the newest ones)"
    assert risk.probability > sla.ticket_sla_risk_assess(calm, now=now).probability


@pytest.mark.django_db
def test_nightly_training_keeps_the_newest_models(policy):
    finished_history(policy, 320)
    for _ in range(6):
        SLARiskModelFactory()

    model_id = sla_risk_model_train_task.delay().get()

    assert SLARiskModel.objects.count() == 5
    assert SLARiskModel.objects.first().pk == model_id


@pytest.mark.django_db
def test_a_model_row_from_another_feature_set_falls_back_to_the_heuristic(policy):
    SLARiskModelFactory(parameters={"features": ["gone"], "mean": [0], "scale": [1], "coef": [3], "intercept": 0})
    now = timezone.now()
    ticket = TicketFactory(created=now - timedelta(minutes=10))
    sla.ticket_sla_refresh(ticket, now=now)

    assert sla.ticket_sla_risk_assess(ticket, now=now).source == "heuristic"


@pytest.mark.django_db
def test_training_snapshots_rebuild_the_queue_at_that_moment(policy, make_user):
    agent = make_user()
    contact = ContactFactory()
    for offset in range(3):  # three tickets open on the agent's desk all day
        TicketFactory(requester=contact, assignee=agent, created=T0 - timedelta(hours=1 + offset))
    TicketFactory(
        requester=contact,
        assignee=agent,
        status=Ticket.Status.SOLVED,
        created=T0,
        solved_at=T0 + timedelta(minutes=300),
        resolution_due=T0 + timedelta(minutes=480),
        first_response_due=T0 + timedelta(minutes=60),
        first_responded_at=T0 + timedelta(minutes=20),
        sla_policy=policy,
    )

    rows = sla_selectors.risk_training_rows()

    assert len(rows) == 3 and all(row.breached is False for row in rows)
    for row in rows:
        assert row.inputs.assignee_open == 4  # the three others and itself
        assert row.inputs.minutes_left + row.inputs.elapsed_minutes == pytest.approx(row.inputs.target_minutes)
        assert row.took == {"first_response": 20.0, "resolution": 300.0}
