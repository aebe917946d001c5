"""The SLA countdown partial (templates/helpdesk/_sla_timers.html): states, colours and wording, without queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from helpdesk.models import Ticket
from helpdesk.templatetags.sla_tags import business_minutes, sla_timers
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def at(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


def states(ticket: Ticket) -> list[tuple[str, str, str]]:
    return [(timer.name, timer.state, timer.text) for timer in sla_timers(ticket)]


def test_running_clocks_are_green_amber_or_red():
    ticket = TicketFactory(
        first_response_due=at(10.5),
        resolution_due=at(-30.5),
        sla_due_at=None,
    )
    ticket.sla_due_at, ticket.sla_warn_at = ticket.first_response_due, at(-1)

    assert states(ticket) == [
        ("first_response", "warn", "10m left"),
        ("resolution", "overdue", "30m overdue"),
    ]

    ticket.sla_warn_at = at(5)
    assert states(ticket)[0][1] == "ok"


def test_long_spans_read_in_hours_and_days():
    ticket = TicketFactory(first_response_due=at(125.5), resolution_due=at(3 * 1440 + 250))
    assert [text for _, _, text in states(ticket)] == ["2h 05m left", "3d 4h left"]


def test_paused_clocks_show_the_time_left_when_they_stopped():
    paused_at = at(-60)
    ticket = TicketFactory(
        status=Ticket.Status.PENDING,
        sla_paused_at=paused_at,
        first_responded_at=at(-90),
        first_response_due=at(-100),
        next_response_due=paused_at + timedelta(minutes=45, seconds=30),
        resolution_due=paused_at + timedelta(hours=5, seconds=30),
    )

    assert states(ticket) == [
        ("first_response", "missed", "Missed"),
        ("next_response", "paused", "Paused · 45m left"),
        ("resolution", "paused", "Paused · 5h 00m left"),
    ]


def test_finished_tickets_show_met_or_missed():
    ticket = TicketFactory(
        status=Ticket.Status.SOLVED,
        first_response_due=at(-300),
        first_responded_at=at(-310),
        resolution_due=at(-100),
        solved_at=at(-90),
    )
    assert states(ticket) == [("first_response", "met", "Met"), ("resolution", "missed", "Missed")]


def test_the_partial_renders_badges_the_script_can_tick(django_assert_num_queries):
    ticket = TicketFactory(first_response_due=at(30), resolution_due=at(480), sla_breached=True)
    ticket.sla_due_at, ticket.sla_warn_at = ticket.first_response_due, at(20)

    with django_assert_num_queries(0):
        html = render_to_string("helpdesk/_sla_timers.html", {"ticket": ticket})

    assert f'id="sla-timers-{ticket.pk}"' in html
    assert 'data-testid="sla-breached"' in html
    assert f'data-sla-due="{ticket.first_response_due.isoformat()}"' in html
    assert f'data-sla-warn="{ticket.sla_warn_at.isoformat()}"' in html
    assert 'class="badge text-bg-success"' in html
    assert "/static/js/sla.js" in html


def test_without_a_policy_the_partial_says_so():
    html = render_to_string("helpdesk/_sla_timers.html", {"ticket": TicketFactory()})
    assert "No SLA policy applies to this ticket." in html


@pytest.mark.parametrize(("minutes", "text"), [(None, "—"), (45, "45m"), (90, "1h 30m"), (480, "8h"), (59.6, "1h")])
def test_business_minutes_filter(minutes, text):
    assert business_minutes(minutes) == text
