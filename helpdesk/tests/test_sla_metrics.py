"""SLA metrics: attainment, business-minute medians and p90, breaches by priority and team, the open queue at risk,
in two queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.models import Ticket
from helpdesk.selectors.sla import sla_metrics_get
from helpdesk.tests.factories import TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db


def solved(*, created, first_minutes, resolution_minutes, first_late=False, late=False, **fields) -> Ticket:
    due = created + timedelta(minutes=resolution_minutes + (-1 if late else 1))
    return TicketFactory(
        created=created,
        status=Ticket.Status.SOLVED,
        first_response_due=created + timedelta(minutes=first_minutes + (-1 if first_late else 1)),
        first_responded_at=created + timedelta(minutes=first_minutes),
        resolution_due=due,
        solved_at=created + timedelta(minutes=resolution_minutes),
        sla_first_response_minutes=first_minutes,
        sla_resolution_minutes=resolution_minutes,
        sla_breached=first_late or late,
        **fields,
    )


def test_metrics_of_the_window(django_assert_num_queries):
    now = timezone.now()
    recent = now - timedelta(days=3)
    billing = TeamFactory(name="Billing")
    for minutes in (10, 20, 30, 40):
        solved(created=recent, first_minutes=minutes, resolution_minutes=minutes * 10)
    solved(created=recent, first_minutes=100, resolution_minutes=1000, first_late=True, priority="urgent", team=billing)
    solved(created=recent, first_minutes=50, resolution_minutes=500, late=True, priority="high")
    # Open and already past its first-response due without a reply: a miss, and breached.
    TicketFactory(
        created=recent,
        status=Ticket.Status.OPEN,
        first_response_due=now - timedelta(minutes=5),
        resolution_due=now + timedelta(hours=4),
        sla_breached=True,
        priority="urgent",
        team=billing,
    )
    # Open and warned (at risk), and one predicted high: counted whenever they were created.
    TicketFactory(created=now - timedelta(days=90), status=Ticket.Status.NEW, sla_warned=True)
    TicketFactory(created=recent, status=Ticket.Status.OPEN, resolution_due=now + timedelta(hours=1), breach_risk=0.9)
    # Outside the window: ignored.
    solved(created=now - timedelta(days=45), first_minutes=999, resolution_minutes=9999, late=True)

    with django_assert_num_queries(2):
        metrics = sla_metrics_get(days=30, now=now)

    assert metrics.tickets == 8
    assert metrics.first_response_attainment == 71.4  # 5 of 6 replies in time, plus 1 unanswered past due
    assert metrics.resolution_attainment == 83.3  # 5 of 6 solved in time
    assert metrics.first_response_median == 35.0
    assert metrics.first_response_p90 == 75.0
    assert metrics.resolution_median == 350.0
    assert metrics.resolution_p90 == 750.0
    assert metrics.breached == 3
    assert metrics.breaches_by_priority == {"urgent": 2, "high": 1}
    assert metrics.breaches_by_team == {"Billing": 2, "No team": 1}
    assert metrics.at_risk == 2
    assert metrics.breached_open == 1


def test_an_empty_workspace_has_no_percentages():
    metrics = sla_metrics_get(days=7)

    assert metrics.tickets == 0
    assert metrics.first_response_attainment is None and metrics.resolution_median is None
    assert metrics.breaches_by_priority == {} and metrics.at_risk == 0
