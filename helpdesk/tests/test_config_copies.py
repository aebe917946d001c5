"""Ticket writes read the helpdesk configuration from per-process copies; every way of changing it renews them."""

from __future__ import annotations

from datetime import time

import pytest

from customers.tests.factories import ContactFactory
from helpdesk.models import Ticket
from helpdesk.selectors import sla as sla_selectors
from helpdesk.selectors.config import helpdesk_settings_get
from helpdesk.services import helpdesk_settings as settings_services
from helpdesk.services import tickets as ticket_services
from helpdesk.services.sla import calendars
from helpdesk.tests.factories import BusinessCalendarFactory, SLAPolicyFactory

pytestmark = pytest.mark.django_db


def new_ticket() -> Ticket:
    return ticket_services.ticket_create(subject="Printer", description="It jams.", requester=ContactFactory())


def test_a_ticket_create_reads_no_configuration_rows_once_copied(django_assert_num_queries):
    SLAPolicyFactory(name="Everything")
    new_ticket()  # creates the settings row and the default calendar: a change, so copies are taken next time
    new_ticket()
    contact = ContactFactory()
    # the savepoint, the ticket, its event, the release: nothing of the configuration
    with django_assert_num_queries(4):
        ticket_services.ticket_create(subject="Printer", description="It jams.", requester=contact)


def test_a_settings_change_is_seen_by_the_next_ticket():
    assert new_ticket().ai_analysis_status == Ticket.AnalysisStatus.PENDING
    settings_services.helpdesk_settings_update(data={"analysis_enabled": False})
    assert helpdesk_settings_get().analysis_enabled is False
    assert new_ticket().ai_analysis_status == ""


def test_reordering_policies_is_seen_although_it_sends_no_signal():
    first = SLAPolicyFactory(name="First", position=1)
    second = SLAPolicyFactory(name="Second", position=2)
    assert new_ticket().sla_policy == first
    settings_services.sla_policy_move(policy=second, direction="up")
    assert new_ticket().sla_policy == second


def test_a_deactivated_or_deleted_policy_stops_applying_at_once():
    policy = SLAPolicyFactory(name="Only")
    assert new_ticket().sla_policy == policy
    policy.active = False
    policy.save()
    assert new_ticket().sla_policy is None
    policy.active = True
    policy.save()
    assert new_ticket().sla_policy == policy
    settings_services.sla_policy_delete(policy=policy)
    assert sla_selectors.sla_policy_for_ticket(Ticket(priority="normal", channel="web")) is None


def test_a_new_default_calendar_is_used_by_the_next_clock():
    before = calendars.sla_calendar_for(None)
    replacement = BusinessCalendarFactory(name="Night shift", is_default=False)
    settings_services.business_calendar_save(
        data={"name": "Night shift", "timezone": "UTC", "is_default": True},
        hours=[(weekday, time(22, 0), time(23, 59)) for weekday in range(7)],
        holidays=[],
        calendar=replacement,
    )
    after = calendars.sla_calendar_for(None)
    assert after is not before
    assert str(after.zone) == "UTC"
