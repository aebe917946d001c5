"""Customer health (customers/health.py): each driver's points on crafted tickets, the neutral score without data,
the batch job's snapshots and statements, and the debounced recompute after ticket events."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import health, tasks
from customers.models import Customer, HealthSnapshot
from helpdesk.contracts import CSAT_RECEIVED, TICKET_CREATED, TICKET_UPDATED, TicketEventPayload, ticket_event
from helpdesk.models import Ticket, TicketEvent
from helpdesk.tests.factories import SatisfactionSurveyFactory, TicketEventFactory, TicketFactory

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def tickets(customer: Customer, count: int, *, days_ago: float, **fields) -> list[Ticket]:
    requester = ContactFactory(customer=customer)
    made = [TicketFactory(requester=requester, customer=customer, **fields) for _ in range(count)]
    Ticket.objects.filter(pk__in=[t.pk for t in made]).update(created=ago(days_ago))  # `created` is not editable
    return made


def scored(customer: Customer) -> health.Health:
    (result,) = health.health_batch([customer.pk], at=timezone.now())
    return result


def driver(customer: Customer, key: str) -> health.Driver:
    return next(d for d in scored(customer).drivers if d.key == key)


# --- Neutral without data -------------------------------------------------------------------------------


def test_a_company_without_data_gets_the_neutral_score_and_not_enough_data_drivers():
    customer = CustomerFactory()

    result = scored(customer)

    assert (result.score, result.band) == (health.NEUTRAL, Customer.HealthBand.UNKNOWN)
    assert [d.key for d in result.drivers] == ["volume", "sentiment", "sla", "csat", "urgent", "contact"]
    assert all(not d.has_data and d.points == 0 for d in result.drivers)


# --- Each driver ---------------------------------------------------------------------------------------


def test_a_surge_of_tickets_against_the_company_baseline_costs_points():
    customer = CustomerFactory()
    tickets(customer, 3, days_ago=60)  # a usual 1 per 30 days
    tickets(customer, 9, days_ago=5)

    volume = driver(customer, "volume")

    assert volume.points == -min(20, round(10 * ((9 + 1) / (1 + 1) - 1)))  # -20: five times the usual rate
    assert "9 tickets in the last 30 days" in volume.explanation and "a surge" in volume.explanation


def test_a_steady_ticket_volume_earns_its_points_and_no_baseline_is_not_enough_data():
    steady, new = CustomerFactory(), CustomerFactory()
    tickets(steady, 6, days_ago=50)
    tickets(steady, 1, days_ago=3)
    tickets(new, 2, days_ago=3)

    assert driver(steady, "volume").points == 5
    assert not driver(new, "volume").has_data and driver(new, "volume").points == 0


def test_negative_sentiment_getting_worse_costs_points():
    customer = CustomerFactory()
    tickets(customer, 4, days_ago=60, sentiment="positive")
    tickets(customer, 3, days_ago=4, sentiment="negative")
    tickets(customer, 1, days_ago=4, sentiment="neutral")
    tickets(customer, 2, days_ago=4)  # not analysed: left out

    sentiment = driver(customer, "sentiment")

    # mood -0.75 now, +1.00 before: 8 × -0.75 + 5 × -1 = -11
    assert sentiment.points == -11
    assert sentiment.explanation.startswith("3 of 4 analysed tickets negative")


def test_sla_breaches_of_the_last_30_days_cost_points_each():
    customer = CustomerFactory()
    first, second, old = tickets(customer, 3, days_ago=10)
    for ticket, days in ((first, 8), (first, 7), (second, 2), (old, 45)):  # `first` breached twice: counted once
        event = TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.SLA_BREACHED)
        TicketEvent.objects.filter(pk=event.pk).update(created=ago(days))

    sla = driver(customer, "sla")

    assert (sla.points, sla.value) == (-10, "2")


def test_no_breach_on_recent_tickets_earns_points():
    customer = CustomerFactory()
    tickets(customer, 2, days_ago=3)

    assert driver(customer, "sla").points == 5


def test_csat_of_the_last_90_days_moves_the_score_damped_under_three_answers():
    happy, grumpy, one_answer = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer, ratings in ((happy, [5, 5, 4]), (grumpy, [1, 2, 2, 5]), (one_answer, [5])):
        for ticket, rating in zip(tickets(customer, len(ratings), days_ago=20), ratings, strict=True):
            SatisfactionSurveyFactory(ticket=ticket, rating=rating, answered_at=ago(10))
    old = tickets(happy, 1, days_ago=200)[0]
    SatisfactionSurveyFactory(ticket=old, rating=1, answered_at=ago(120))  # outside the window

    assert driver(happy, "csat").points == round((14 / 3 - 3.5) * 10)  # 12
    assert driver(grumpy, "csat").points == -10  # mean 2.5
    assert driver(one_answer, "csat").points == round(15 / 3)  # one answer: a third of the weight


def test_open_urgent_tickets_cost_points_and_solved_ones_do_not():
    customer = CustomerFactory()
    tickets(customer, 1, days_ago=2, priority=Ticket.Priority.URGENT)
    tickets(customer, 1, days_ago=2, priority=Ticket.Priority.URGENT, status="solved", solved_at=ago(1))
    calm = CustomerFactory()
    tickets(calm, 1, days_ago=2)

    assert driver(customer, "urgent").points == -8
    assert driver(calm, "urgent").points == 5


def test_long_silence_costs_points_and_recent_contact_earns_them():
    quiet, talking = CustomerFactory(), CustomerFactory()
    tickets(quiet, 1, days_ago=200)
    (ticket,) = tickets(talking, 1, days_ago=200)
    Ticket.objects.filter(pk=ticket.pk).update(last_customer_message_at=ago(2))

    assert (driver(quiet, "contact").points, driver(quiet, "contact").value) == (-10, "200 d")
    assert driver(talking, "contact").points == 5


def test_the_score_is_neutral_plus_the_drivers_clamped_and_banded():
    drivers = [health.Driver("x", "X", -70, "", ""), health.Driver("y", "Y", 5, "", "")]

    assert health.health_score(1, drivers).score == 0
    assert health.health_score(1, drivers).band == Customer.HealthBand.CRITICAL
    assert health.band_for(65) == "healthy" and health.band_for(64) == "at_risk" and health.band_for(39) == "critical"


def test_a_plan_usage_provider_adds_its_driver(monkeypatch):
    customer = CustomerFactory()
    usage = health.Driver("usage", "Plan and usage", -7, "12%", "Uses 12% of the seats paid for.")
    monkeypatch.setattr(health, "PLAN_USAGE_DRIVERS", [lambda ids, at: {customer.pk: usage}])

    result = scored(customer)

    assert result.drivers[-1] == usage and result.score == health.NEUTRAL - 7


# --- The job: snapshots, current score, statements ------------------------------------------------------


def test_analyze_sets_the_current_score_and_upserts_one_snapshot_per_day():
    customer = CustomerFactory()
    tickets(customer, 2, days_ago=3)

    health.customer_health_analyze(customer_ids=[customer.pk])
    tickets(customer, 1, days_ago=1, priority=Ticket.Priority.URGENT)
    health.customer_health_analyze(customer_ids=[customer.pk])

    customer.refresh_from_db()
    snapshot = HealthSnapshot.objects.get(customer=customer)  # the same day twice: one row, updated
    assert snapshot.score == customer.health_score and snapshot.band == customer.health_band
    assert {d["key"]: d["points"] for d in customer.health_drivers}["urgent"] == -8
    assert snapshot.drivers == customer.health_drivers and customer.health_updated is not None


def test_analyze_as_of_a_past_day_keeps_history_without_touching_the_current_score():
    customer = CustomerFactory()
    tickets(customer, 1, days_ago=40)

    health.customer_health_backfill(days=3, customer_ids=[customer.pk])

    days = list(HealthSnapshot.objects.filter(customer=customer).values_list("day", flat=True))
    today = timezone.localdate()
    assert days == [today - timedelta(days=n) for n in (3, 2, 1, 0)]
    customer.refresh_from_db()
    assert customer.health_score is not None


def test_the_beat_job_scores_every_company_of_the_workspace_in_batches():
    companies = CustomerFactory.create_batch(5)
    tickets(companies[0], 1, days_ago=2)

    with mock.patch.object(health, "BATCH_SIZE", 2):
        scored_count = tasks.customers_health_refresh_task()

    assert scored_count == Customer.objects.count() >= 5
    assert not Customer.objects.filter(health_score__isnull=True).exists()
    assert HealthSnapshot.objects.filter(customer__in=companies).count() == 5


def test_the_fan_out_queues_the_job_in_every_workspace(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "tenants_fan_out", lambda task: queued.append(task.name) or 1)

    assert tasks.customers_health_refresh_fanout_task() == 1
    assert queued == ["customers.tasks.customers_health_refresh_task"]


def _statements(customer_ids: list[int]) -> int:
    with CaptureQueriesContext(connection) as queries:
        health.customer_health_analyze(customer_ids=customer_ids)
    return len(queries)


def test_the_job_statements_do_not_grow_with_the_companies_of_a_batch():
    few = CustomerFactory.create_batch(2)
    many = CustomerFactory.create_batch(12)
    for customer in few + many:
        (ticket,) = tickets(customer, 1, days_ago=5, sentiment="negative", priority=Ticket.Priority.URGENT)
        SatisfactionSurveyFactory(ticket=ticket, rating=4, answered_at=ago(3))

    assert _statements([c.pk for c in few]) == _statements([c.pk for c in many])


# --- After events: debounced, queued, never computed in the request --------------------------------------


def _event(name: str, customer_id: int) -> TicketEventPayload:
    return TicketEventPayload(
        event=name, ticket_id=1, occurred_at=timezone.now(), ticket={"customer": {"id": customer_id, "name": "x"}}
    )


def test_a_burst_of_ticket_events_queues_one_recompute(monkeypatch):
    queued = []
    monkeypatch.setattr("core.outbox.enqueue", lambda task, *args: queued.append((task, args)))
    cache.delete(health._debounce_key(42))

    for name in (TICKET_CREATED, CSAT_RECEIVED, TICKET_CREATED, TICKET_UPDATED):
        ticket_event.send(sender=TicketEventPayload, event=_event(name, 42))

    assert queued == [("customers.tasks.customer_health_refresh_task", (42,))]


def test_once_the_recompute_starts_the_next_event_queues_another(monkeypatch):
    queued = []
    monkeypatch.setattr("core.outbox.enqueue", lambda task, *args: queued.append(args))
    customer = CustomerFactory()
    cache.delete(health._debounce_key(customer.pk))

    ticket_event.send(sender=TicketEventPayload, event=_event(TICKET_CREATED, customer.pk))
    tasks.customer_health_refresh_task(customer.pk)
    ticket_event.send(sender=TicketEventPayload, event=_event(TICKET_CREATED, customer.pk))

    assert queued == [(customer.pk,), (customer.pk,)]
    customer.refresh_from_db()
    assert customer.health_band == Customer.HealthBand.UNKNOWN


def test_a_new_ticket_rescores_its_company_after_commit(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    requester = ContactFactory(customer=customer)
    cache.delete(health._debounce_key(customer.pk))
    from helpdesk.services.tickets import ticket_create

    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(subject="Down", description="Everything is down", requester=requester, channel="web")

    customer.refresh_from_db()
    assert customer.health_score is not None
    assert {d["key"]: d["value"] for d in customer.health_drivers}["contact"] == "0 d"


def test_a_rescore_that_changes_nothing_leaves_the_customer_row_alone():
    customer = CustomerFactory()
    tickets(customer, 1, days_ago=3)
    health.customer_health_analyze(customer_ids=[customer.pk])
    customer.refresh_from_db()
    first = customer.health_updated

    health.customer_health_analyze(customer_ids=[customer.pk])

    customer.refresh_from_db()
    assert customer.health_updated == first  # same score and drivers: no new row version, no index churn
    assert HealthSnapshot.objects.get(customer=customer).at > first  # today's snapshot says when it was scored


def test_a_company_deleted_before_its_recompute_is_skipped():
    customer = CustomerFactory()
    gone = customer.pk
    customer.delete()

    assert tasks.customer_health_refresh_task(gone) == 0
    assert not HealthSnapshot.objects.filter(customer_id=gone).exists()
