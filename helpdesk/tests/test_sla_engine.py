"""The SLA engine: policy matching, due times, pause and resume, next response, stop on solve, late outcomes,
and the hooks in the ticket services that keep it all current."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.conf import settings

from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.models import BusinessCalendar, Ticket, TicketEvent
from helpdesk.selectors import sla as sla_selectors
from helpdesk.services import sla
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import (
    BusinessCalendarFactory,
    BusinessHoursFactory,
    SLAPolicyFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)  # a Wednesday


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


@pytest.fixture
def round_the_clock():
    return BusinessCalendarFactory(always_open=True)


@pytest.fixture
def policy(round_the_clock):
    """First response 1 h, next response 2 h, solve 8 h; warn at 80 %; every minute counts."""
    return SLAPolicyFactory(
        name="Standard",
        calendar=round_the_clock,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=480,
    )


def ticket_at(created=T0, **fields) -> Ticket:
    return TicketFactory(created=created, last_customer_message_at=created, **fields)


def refreshed(ticket: Ticket, now: datetime) -> Ticket:
    """Saves what the test changed (as a ticket service would), then lets the engine catch up at `now`."""
    ticket.save()
    sla.ticket_sla_refresh(ticket, now=now)
    ticket.refresh_from_db()
    return ticket


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.values_list("kind", flat=True))


# --- Policies -----------------------------------------------------------------------------------


def test_the_first_matching_active_policy_in_order_wins(round_the_clock):
    enterprise = CustomerFactory(tier="enterprise")
    SLAPolicyFactory(name="Off", position=1, active=False, calendar=round_the_clock)
    urgent_email = SLAPolicyFactory(name="Urgent email", position=2, priority="urgent", channel="email")
    vip = SLAPolicyFactory(name="Enterprise", position=3, customer_tier="enterprise")
    catch_all = SLAPolicyFactory(name="Everything", position=4)
    vip_contact = ContactFactory(customer=enterprise)

    assert sla_selectors.sla_policy_for_ticket(ticket_at(priority="urgent", channel="email")) == urgent_email
    assert sla_selectors.sla_policy_for_ticket(ticket_at(priority="urgent", channel="web")) == catch_all
    assert sla_selectors.sla_policy_for_ticket(ticket_at(requester=vip_contact, customer=enterprise)) == vip
    assert (
        sla_selectors.sla_policy_for_ticket(ticket_at(priority="urgent", channel="email", requester=vip_contact))
        == urgent_email
    )


def test_without_a_matching_policy_there_are_no_clocks():
    SLAPolicyFactory(priority="urgent")
    ticket = refreshed(ticket_at(priority="low"), T0)

    assert ticket.sla_policy is None
    assert ticket.first_response_due is ticket.resolution_due is ticket.sla_due_at is None


def test_due_times_count_in_the_policy_calendar(policy):
    ticket = refreshed(ticket_at(), T0)

    assert ticket.sla_policy == policy
    assert ticket.first_response_due == T0 + minutes(60)
    assert ticket.resolution_due == T0 + minutes(480)
    assert ticket.next_response_due is None  # the first response clock runs until the first reply
    assert ticket.sla_due_at == T0 + minutes(60)
    assert ticket.sla_warn_at == T0 + minutes(48)  # 80 % of the nearest target


def test_without_a_calendar_the_default_one_is_created_on_first_use():
    assert not BusinessCalendar.objects.exists()
    SLAPolicyFactory(first_response_minutes=60, resolution_minutes=600)
    friday_afternoon = datetime(2025, 3, 7, 16, 30, tzinfo=UTC)

    ticket = refreshed(ticket_at(created=friday_afternoon), friday_afternoon)

    default = BusinessCalendar.objects.get()
    assert default.is_default and default.timezone == settings.TIME_ZONE == "UTC"
    assert sorted(default.hours.values_list("weekday", flat=True)) == [0, 1, 2, 3, 4]
    assert ticket.first_response_due == datetime(2025, 3, 10, 9, 30, tzinfo=UTC)  # Monday morning
    assert sla.business_calendar_default() == default  # and it stays the one


def test_the_teams_calendar_counts_when_the_policy_names_none():
    berlin = BusinessCalendarFactory(timezone="Europe/Berlin")
    BusinessHoursFactory(calendar=berlin, weekday=2, opens=time(8), closes=time(12))
    SLAPolicyFactory(first_response_minutes=60)
    from helpdesk.tests.factories import TeamFactory

    ticket = refreshed(ticket_at(team=TeamFactory(calendar=berlin)), T0)  # 11:00 in Berlin

    assert ticket.first_response_due == datetime(2025, 3, 5, 11, 0, tzinfo=UTC)  # 12:00 Berlin, closing time


# --- Pause and resume ---------------------------------------------------------------------------


def test_pending_pauses_the_clocks_and_resuming_moves_the_dues_by_the_paused_time(policy):
    ticket = refreshed(ticket_at(), T0)
    ticket.status = Ticket.Status.PENDING
    ticket = refreshed(ticket, T0 + minutes(20))
    assert ticket.sla_paused_at == T0 + minutes(20)
    assert ticket.first_response_due == T0 + minutes(60)  # frozen while paused

    ticket.status = Ticket.Status.OPEN
    ticket = refreshed(ticket, T0 + minutes(110))

    assert ticket.sla_paused_at is None
    assert ticket.sla_paused_minutes == 90
    assert ticket.first_response_due == T0 + minutes(150)
    assert ticket.resolution_due == T0 + minutes(570)


def test_paused_time_outside_business_hours_does_not_move_the_dues():
    office = BusinessCalendarFactory(timezone="UTC")
    for weekday in range(5):
        BusinessHoursFactory(calendar=office, weekday=weekday, opens=time(9), closes=time(17))
    SLAPolicyFactory(calendar=office, first_response_minutes=120, resolution_minutes=960)
    ticket = refreshed(ticket_at(created=datetime(2025, 3, 5, 16, 0, tzinfo=UTC)), T0)

    ticket.status = Ticket.Status.ON_HOLD
    ticket = refreshed(ticket, datetime(2025, 3, 5, 16, 30, tzinfo=UTC))
    ticket.status = Ticket.Status.OPEN
    ticket = refreshed(ticket, datetime(2025, 3, 6, 9, 15, tzinfo=UTC))  # 30 + 15 business minutes paused

    assert ticket.sla_paused_minutes == 45
    assert ticket.first_response_due == datetime(2025, 3, 6, 10, 45, tzinfo=UTC)


def test_the_sweep_ignores_paused_tickets(policy):
    ticket = refreshed(ticket_at(), T0)
    ticket.status = Ticket.Status.PENDING
    refreshed(ticket, T0 + minutes(5))

    assert sla.sla_sweep(now=T0 + minutes(600)) == sla.SweepResult(warned=0, breached=0)


# --- Next response ------------------------------------------------------------------------------


def test_next_response_runs_from_the_oldest_unanswered_customer_message(policy):
    ticket = ticket_at(first_responded_at=T0 + minutes(10), last_agent_message_at=T0 + minutes(10))
    ticket = refreshed(ticket, T0 + minutes(10))
    assert ticket.next_response_due is None

    first = TicketMessageFactory(ticket=ticket, author=None, author_contact=ticket.requester, created=T0 + minutes(30))
    ticket.last_customer_message_at = first.created
    ticket = refreshed(ticket, first.created)
    assert ticket.next_response_due == T0 + minutes(150)

    second = TicketMessageFactory(ticket=ticket, author=None, author_contact=ticket.requester, created=T0 + minutes(70))
    ticket.last_customer_message_at = second.created
    ticket = refreshed(ticket, second.created)
    assert ticket.next_response_due == T0 + minutes(150)  # still the first unanswered message's clock
    assert ticket.sla_due_at == T0 + minutes(150)

    ticket.last_agent_message_at = T0 + minutes(90)
    ticket = refreshed(ticket, T0 + minutes(90))
    assert ticket.next_response_due is None
    assert ticket.sla_due_at == ticket.resolution_due


def test_a_new_clock_re_arms_the_warning(policy):
    ticket = refreshed(ticket_at(), T0)
    sla.sla_sweep(now=T0 + minutes(50))
    ticket.refresh_from_db()
    assert ticket.sla_warned

    ticket.first_responded_at = ticket.last_agent_message_at = T0 + minutes(55)
    ticket = refreshed(ticket, T0 + minutes(55))

    assert not ticket.sla_warned  # the resolution clock warns on its own
    assert ticket.sla_warn_at == T0 + minutes(384)


# --- Stopping, outcomes, reopening --------------------------------------------------------------


def test_solving_stops_the_clocks_and_records_business_minutes(policy):
    ticket = ticket_at(first_responded_at=T0 + minutes(30), last_agent_message_at=T0 + minutes(30))
    ticket = refreshed(ticket, T0 + minutes(30))
    ticket.status, ticket.solved_at = Ticket.Status.SOLVED, T0 + minutes(200)
    ticket = refreshed(ticket, T0 + minutes(200))

    assert ticket.sla_first_response_minutes == 30
    assert ticket.sla_resolution_minutes == 200
    assert ticket.sla_due_at is None and ticket.sla_warn_at is None
    assert not ticket.sla_breached
    assert sla.sla_sweep(now=T0 + minutes(1000)).breached == 0


def test_a_late_first_reply_found_at_reply_time_is_a_breach_recorded_once(policy):
    ticket = refreshed(ticket_at(), T0)
    ticket.first_responded_at = ticket.last_agent_message_at = T0 + minutes(61)
    ticket = refreshed(ticket, T0 + minutes(61))
    ticket = refreshed(ticket, T0 + minutes(62))

    assert ticket.sla_breached
    breaches = ticket.events.filter(kind=TicketEvent.Kind.SLA_BREACHED)
    assert breaches.count() == 1
    assert breaches.get().data | {"due": None, "met": None} == {
        "target": "first_response",
        "late": True,
        "due": None,
        "met": None,
    }


def test_a_late_solve_is_a_breach(policy):
    ticket = ticket_at(first_responded_at=T0 + minutes(5), last_agent_message_at=T0 + minutes(5))
    ticket = refreshed(ticket, T0 + minutes(5))
    ticket.status, ticket.solved_at = Ticket.Status.SOLVED, T0 + minutes(481)
    ticket = refreshed(ticket, T0 + minutes(481))

    assert ticket.sla_breached
    assert ticket.events.get(kind=TicketEvent.Kind.SLA_BREACHED).data["target"] == "resolution"


def test_time_spent_solved_does_not_count_after_a_reopen(policy):
    ticket = ticket_at(first_responded_at=T0 + minutes(5), last_agent_message_at=T0 + minutes(5))
    ticket = refreshed(ticket, T0 + minutes(5))
    ticket.status, ticket.solved_at = Ticket.Status.SOLVED, T0 + minutes(100)
    ticket = refreshed(ticket, T0 + minutes(100))

    ticket.status, ticket.solved_at = Ticket.Status.OPEN, None
    ticket = refreshed(ticket, T0 + minutes(1000))  # reopened 900 minutes later

    assert ticket.sla_resolution_minutes is None
    assert ticket.sla_paused_minutes == 900
    assert ticket.resolution_due == T0 + minutes(1380)
    assert not ticket.sla_breached


# --- Hooks in the ticket services ---------------------------------------------------------------


def create(**overrides) -> Ticket:
    values = {"subject": "Printer jams", "description": "Paper jams on page two.", "requester_email": "a@b.test"}
    return ticket_services.ticket_create(**(values | overrides))


def test_ticket_create_starts_the_clocks(policy):
    ticket = create()

    assert ticket.sla_policy == policy
    assert ticket.first_response_due - ticket.created == minutes(60)
    assert ticket.resolution_due - ticket.created == minutes(480)


def test_raising_the_priority_switches_policy_and_due_times(policy, round_the_clock, make_user):
    urgent = SLAPolicyFactory(
        priority="urgent", position=1, calendar=round_the_clock, first_response_minutes=15, resolution_minutes=120
    )
    ticket = create()

    ticket = ticket_services.ticket_update(ticket=ticket, actor=make_user(), data={"priority": "urgent"})

    assert ticket.sla_policy == urgent
    assert ticket.first_response_due - ticket.created == minutes(15)
    assert ticket.resolution_due - ticket.created == minutes(120)


def test_status_pending_pauses_and_a_customer_reply_resumes(policy, make_user):
    agent = make_user()
    ticket = create()
    ticket = ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.PENDING, actor=agent)
    assert ticket.sla_paused_at is not None

    ticket_services.customer_message_add(ticket=ticket, body="Here is the screenshot.")
    ticket.refresh_from_db()

    assert ticket.status == Ticket.Status.OPEN
    assert ticket.sla_paused_at is None and ticket.sla_paused_minutes >= 0


def test_an_agent_reply_meets_the_first_response_and_a_customer_reply_starts_the_next(policy, make_user):
    agent = make_user()
    ticket = create()

    ticket_services.message_add(ticket=ticket, actor=agent, body="Looking into it.")
    ticket.refresh_from_db()
    assert ticket.sla_first_response_minutes is not None
    assert ticket.sla_due_at == ticket.resolution_due

    message = ticket_services.customer_message_add(ticket=ticket, body="Any news?")
    ticket.refresh_from_db()
    assert ticket.next_response_due == message.created + minutes(120)

    ticket_services.message_add(ticket=ticket, actor=agent, body="Fixed!", status=Ticket.Status.SOLVED)
    ticket.refresh_from_db()
    assert ticket.next_response_due is None
    assert ticket.sla_resolution_minutes is not None
    assert TicketEvent.Kind.SLA_BREACHED not in kinds(ticket)


def test_an_internal_note_does_not_count_as_a_response(policy, make_user):
    ticket = create()
    ticket_services.message_add(ticket=ticket, actor=make_user(), body="Checking logs", kind="note")
    ticket.refresh_from_db()

    assert ticket.first_responded_at is None
    assert ticket.sla_due_at == ticket.first_response_due


def test_backfill_fills_outcomes_of_rows_written_around_the_engine(policy):
    solved = ticket_at(
        status=Ticket.Status.SOLVED,
        sla_policy=policy,
        first_responded_at=T0 + minutes(30),
        solved_at=T0 + minutes(300),
        resolution_due=T0 + minutes(480),
    )
    running = ticket_at(sla_policy=policy, created=datetime.now(UTC))

    result = sla.sla_backfill()

    solved.refresh_from_db()
    running.refresh_from_db()
    assert result == sla.BackfillResult(finished=1, running=1)
    assert (solved.sla_first_response_minutes, solved.sla_resolution_minutes) == (30, 300)
    assert running.sla_due_at == running.first_response_due
    assert sla.sla_backfill() == sla.BackfillResult(finished=0, running=0)
