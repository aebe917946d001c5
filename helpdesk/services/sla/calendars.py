"""SLA calendars and policies: which policy covers a ticket and which business hours its clocks count in."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from ...business_hours import DEFAULT_HOURS, CompiledCalendar, calendar_compiled
from ...models import BusinessCalendar, BusinessHours, SLAPolicy, Ticket
from ...selectors.config import helpdesk_config_get

DEFAULT_CALENDAR_NAME = "Standard business hours"


def business_calendar_default() -> BusinessCalendar:
    """The workspace's default calendar; a first use creates Mon–Fri 09:00–17:00 in settings.TIME_ZONE."""
    calendar = BusinessCalendar.objects.filter(is_default=True).first()
    if calendar is not None:
        return calendar
    try:
        with transaction.atomic():
            calendar, created = BusinessCalendar.objects.get_or_create(
                name=DEFAULT_CALENDAR_NAME, defaults={"timezone": settings.TIME_ZONE, "is_default": True}
            )
            if created:
                BusinessHours.objects.bulk_create(
                    BusinessHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
                    for weekday, opens, closes in DEFAULT_HOURS
                )
            elif not calendar.is_default:
                calendar.is_default = True
                calendar.save(update_fields=["is_default", "updated"])
            return calendar
    except IntegrityError:
        # Another request created it at the same moment.
        return BusinessCalendar.objects.get(is_default=True)


def sla_calendar_for(policy: SLAPolicy | None, ticket: Ticket | None = None) -> CompiledCalendar:
    """The policy's calendar, else the ticket's team's, else the workspace default."""
    calendar = policy.calendar if policy is not None else None
    if calendar is None and ticket is not None and ticket.team_id:
        calendar = ticket.team.calendar
    # This process's copy of the default calendar (helpdesk_config_get), created by the first clock that needs it.
    return calendar_compiled(calendar or helpdesk_config_get().default_calendar or business_calendar_default())
