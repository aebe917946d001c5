"""Scheduled dashboard reports: when each is due (07:00 in the workspace's time zone: every day, on Mondays or on
the 1st), which period it covers, who may receive it, and its writes (services for the pages).

Sending (insights/report_email.py) happens under a row lock on the schedule and moves `next_due` on in the same
transaction, so a period's report goes out once however many workers run the beat task at once, and a failed
render or send rolls the claim back: the next run (15 minutes later) tries again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.roles import roles_with, user_can

from .dashboards import PRESETS, Layout, layout_of, period_dates
from .models import ReportSchedule
from .selectors import dashboards_visible

SEND_HOUR = 7
# What a report may cover besides its frequency's default (the day, week or month just ended), ending yesterday.
PERIOD_CHOICES = {
    "": "The day, week or month just ended",
    "1d": "The day before",
    "7d": "The last 7 days",
    "30d": "The last 30 days",
    "90d": "The last 90 days",
    "last_month": "The last calendar month",
}
DEFAULT_PERIODS = {"daily": "1d", "weekly": "7d", "monthly": "last_month"}
MAX_RECIPIENTS = 50


def workspace_zone() -> tzinfo:
    """Workspace days are calendar days in settings.TIME_ZONE (as the rollups and digests count them)."""
    return ZoneInfo(settings.TIME_ZONE)


# --- when ---------------------------------------------------------------------------------------------------------


def _slot_day(frequency: str, day: date) -> date:
    """The first day on or after `day` that a report of `frequency` goes out."""
    if frequency == ReportSchedule.Frequency.WEEKLY:
        return day + timedelta(days=(7 - day.weekday()) % 7)
    if frequency == ReportSchedule.Frequency.MONTHLY:
        if day.day == 1:
            return day
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day


def next_due_after(frequency: str, moment: datetime, *, zone: tzinfo | None = None) -> datetime:
    """The first sending time strictly after `moment`: 07:00 local on the next day, Monday or 1st (07:00 exists on
    every day of every zone, DST changes happen at night, so the wall-clock time is always the one meant)."""
    zone = zone or workspace_zone()
    day = moment.astimezone(zone).date()
    while True:
        slot = datetime.combine(_slot_day(frequency, day), time(SEND_HOUR), tzinfo=zone)
        if slot > moment:
            return slot
        day = slot.date() + timedelta(days=1)


def report_period(schedule: ReportSchedule, *, today: date) -> tuple[date, date]:
    """(start, end) that a report sent on `today` covers: by default the day, 7 days or calendar month that ended
    yesterday."""
    period = schedule.period or DEFAULT_PERIODS[schedule.frequency]
    if period == "last_month":
        return period_dates("last_month", today=today)
    return period_dates(period, today=today - timedelta(days=1))


# --- what ---------------------------------------------------------------------------------------------------------


def schedule_layout(schedule: ReportSchedule) -> Layout:
    return PRESETS[schedule.preset] if schedule.preset else layout_of(schedule.dashboard)


def schedule_title(schedule: ReportSchedule) -> str:
    if schedule.name:
        return schedule.name
    return PRESETS[schedule.preset].name if schedule.preset in PRESETS else str(schedule.dashboard)


# --- who ----------------------------------------------------------------------------------------------------------


def may_receive(user) -> bool:
    return user_can(user, "insights.view")


def may_open(user, dashboard) -> bool:
    """Whether `user` can open the custom dashboard a report links to (presets: everyone with insights.view)."""
    return dashboard is None or dashboard.shared or dashboard.owner_id == user.pk


def schedule_recipients(schedule: ReportSchedule) -> list:
    """The recipients who may receive it today: people deactivated, who lost insights.view, or who can no longer open
    its dashboard (un-shared since) are skipped, and stay listed, so the report reaches them again if that changes."""
    dashboard = schedule.dashboard
    return [user for user in schedule.recipients.order_by("email") if may_receive(user) and may_open(user, dashboard)]


def eligible_recipients() -> QuerySet:
    """The people a report may be scheduled to: active, with insights.view."""
    people = get_user_model().objects.filter(is_active=True, role__in=roles_with("insights.view"))
    return people.order_by("name", "email")


def schedules_visible(*, user) -> QuerySet[ReportSchedule]:
    """Managers see every schedule; others those they made and those they receive."""
    schedules = ReportSchedule.objects.select_related("owner", "dashboard").prefetch_related("recipients")
    if user_can(user, "insights.manage"):
        return schedules.order_by("next_due", "id")
    return schedules.filter(Q(owner=user) | Q(recipients=user)).distinct().order_by("next_due", "id")


def schedules_editable(*, user) -> QuerySet[ReportSchedule]:
    if user_can(user, "insights.manage"):
        return ReportSchedule.objects.all()
    return ReportSchedule.objects.filter(owner=user)


def can_edit(*, user, schedule: ReportSchedule) -> bool:
    return user_can(user, "insights.manage") or schedule.owner_id == user.pk


# --- writes -------------------------------------------------------------------------------------------------------


def _clean(*, actor, dashboard: str, frequency: str, period: str, fmt: str, recipients: Iterable, name: str) -> dict:
    """Validated fields. `dashboard` is a preset's name or a custom dashboard's id that `actor` sees."""
    errors: dict[str, str] = {}
    fields: dict = {"name": " ".join(name.split())[:120], "preset": "", "dashboard": None}
    if dashboard in PRESETS:
        fields["preset"] = dashboard
    else:
        found = dashboards_visible(user=actor).filter(pk=int(dashboard)).first() if dashboard.isdigit() else None
        if found is None:
            errors["dashboard"] = "Choose one of your dashboards or a preset."
        fields["dashboard"] = found
    if frequency not in ReportSchedule.Frequency.values:
        errors["frequency"] = "Choose daily, weekly or monthly."
    if period not in PERIOD_CHOICES:
        errors["period"] = "Choose one of the listed periods."
    if fmt not in ReportSchedule.Format.values:
        errors["format"] = "Choose an email, a PDF or both."
    people = list(recipients)
    if not people:
        errors["recipients"] = "Choose at least one person."
    elif len(people) > MAX_RECIPIENTS:
        errors["recipients"] = f"A report goes to at most {MAX_RECIPIENTS} people."
    elif any(not may_receive(person) for person in people):
        errors["recipients"] = "Reports go only to active people who may see insights."
    elif not user_can(actor, "insights.manage") and any(person.pk != actor.pk for person in people):
        errors["recipients"] = "You may schedule reports to yourself; scheduling to others needs insights management."
    elif _private_to_others(fields["dashboard"], people):
        # Each figure links to the dashboard: people who cannot open it would follow dead links.
        errors["recipients"] = "Share the dashboard first: only its owner sees it, and the report links to it."
    if errors:
        raise ValidationError(errors)
    return fields | {"frequency": frequency, "period": period, "format": fmt, "recipients": people}


def _private_to_others(dashboard, people: list) -> bool:
    return dashboard is not None and not dashboard.shared and any(person.pk != dashboard.owner_id for person in people)


@transaction.atomic
def report_schedule_create(
    *, actor, dashboard: str, frequency: str, fmt: str, recipients: Iterable, period: str = "", name: str = ""
) -> ReportSchedule:
    fields = _clean(
        actor=actor, dashboard=dashboard, frequency=frequency, period=period, fmt=fmt, recipients=recipients, name=name
    )
    people = fields.pop("recipients")
    schedule = ReportSchedule.objects.create(
        owner=actor, next_due=next_due_after(fields["frequency"], timezone.now()), **fields
    )
    schedule.recipients.set(people)
    return schedule


@transaction.atomic
def report_schedule_update(
    *,
    schedule: ReportSchedule,
    actor,
    dashboard: str,
    frequency: str,
    fmt: str,
    recipients: Iterable,
    period: str = "",
    name: str = "",
    enabled: bool = True,
) -> ReportSchedule:
    fields = _clean(
        actor=actor, dashboard=dashboard, frequency=frequency, period=period, fmt=fmt, recipients=recipients, name=name
    )
    people = fields.pop("recipients")
    if fields["frequency"] != schedule.frequency or (enabled and not schedule.enabled):
        # A new rhythm, or a paused schedule resumed: the next slot from now, not a backlog of missed ones.
        schedule.next_due = next_due_after(fields["frequency"], timezone.now())
    for name_, value in fields.items():
        setattr(schedule, name_, value)
    schedule.enabled = enabled
    schedule.save()
    schedule.recipients.set(people)
    return schedule


def report_schedule_delete(*, schedule: ReportSchedule) -> None:
    schedule.delete()


def report_schedule_claim(*, schedule_id: int, now: datetime) -> ReportSchedule | None:
    """Inside a transaction: the schedule, locked, if it is due and no other worker holds it (None otherwise)."""
    return (
        ReportSchedule.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("dashboard")
        .filter(pk=schedule_id, enabled=True, next_due__lte=now)
        .first()
    )


def report_schedule_sent(*, schedule: ReportSchedule, now: datetime, delivered: bool) -> None:
    schedule.next_due = next_due_after(schedule.frequency, now)
    if delivered:
        schedule.last_sent_at = now
    schedule.last_error = ""
    schedule.save(update_fields=["next_due", "last_sent_at", "last_error", "updated"])


def report_schedule_failed(*, schedule_id: int, error: str) -> None:
    ReportSchedule.objects.filter(pk=schedule_id).update(last_error=error[:300])


def dashboards_for(*, user) -> list[tuple[str, str]]:
    """The dashboard menu of the schedule form: presets, then the custom dashboards `user` sees."""
    presets = [(slug, f"{layout.name} (preset)") for slug, layout in PRESETS.items()]
    return presets + [(str(dashboard.pk), dashboard.name) for dashboard in dashboards_visible(user=user)]
