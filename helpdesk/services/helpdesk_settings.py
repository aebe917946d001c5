"""Writing the helpdesk configuration: switches, SLA policies and their order, teams, agents and skills, business
calendars with their hours and holidays, categories.

Forms (helpdesk/settings_forms.py) validate what a person typed; these functions keep the rules that hold however
the data arrives: one default calendar, positions without gaps, every calendar edit saving the calendar row (its
`updated` keys the compiled-calendar cache in helpdesk.business_hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.workspace_config import workspace_config_changed

from ..models import (
    AgentProfile,
    BusinessCalendar,
    BusinessHours,
    Category,
    HelpdeskSettings,
    Holiday,
    Skill,
    SLAPolicy,
    Team,
)

POSITION_STEP = 10


def _apply(instance: Any, data: Mapping[str, Any]) -> None:
    for field, value in data.items():
        setattr(instance, field, value)


# --- Switches -----------------------------------------------------------------------------------


@transaction.atomic
def helpdesk_settings_update(*, data: Mapping[str, Any]) -> HelpdeskSettings:
    settings = HelpdeskSettings.current()
    _apply(settings, data)
    settings.full_clean()
    settings.save()
    return settings


# --- SLA policies -------------------------------------------------------------------------------


def _renumber_policies(ordered: list[SLAPolicy]) -> None:
    for index, policy in enumerate(ordered, start=1):
        policy.position = index * POSITION_STEP
    SLAPolicy.objects.bulk_update(ordered, ["position"])
    workspace_config_changed()  # bulk_update sends no signal, and the order decides which policy applies


@transaction.atomic
def sla_policy_create(*, data: Mapping[str, Any]) -> SLAPolicy:
    """A new policy goes last: catch-alls usually sit there, and it should not silently take over tickets."""
    last = max((policy.position for policy in SLAPolicy.objects.select_for_update()), default=0)
    policy = SLAPolicy(**data, position=last + POSITION_STEP)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def sla_policy_update(*, policy: SLAPolicy, data: Mapping[str, Any]) -> SLAPolicy:
    _apply(policy, data)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def sla_policy_delete(*, policy: SLAPolicy) -> None:
    policy.delete()
    _renumber_policies(list(SLAPolicy.objects.select_for_update()))


@transaction.atomic
def sla_policy_move(*, policy: SLAPolicy, direction: str) -> SLAPolicy:
    """Swaps the policy with its neighbour above ("up") or below ("down"); the first match wins, so order matters."""
    if direction not in {"up", "down"}:
        raise ValidationError({"direction": "Move a policy “up” or “down”."})
    ordered = list(SLAPolicy.objects.select_for_update())
    index = next(i for i, candidate in enumerate(ordered) if candidate.pk == policy.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber_policies(ordered)
    return next(candidate for candidate in ordered if candidate.pk == policy.pk)


# --- Teams --------------------------------------------------------------------------------------


@transaction.atomic
def team_save(*, data: Mapping[str, Any], members: Iterable, team: Team | None = None) -> Team:
    team = team or Team()
    _apply(team, data)
    team.full_clean()
    team.save()
    team.members.set(members)
    return team


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """Its tickets, categories and escalation policies keep working without a team."""
    team.delete()


# --- Agents and skills --------------------------------------------------------------------------


@transaction.atomic
def agent_profile_update(
    *, user, availability: str, max_open_tickets: int, skills: Iterable[Skill] = ()
) -> AgentProfile:
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    profile.availability = availability
    profile.max_open_tickets = max_open_tickets
    profile.full_clean()
    profile.save()
    profile.skills.set(skills)
    return profile


def skill_create(*, name: str) -> Skill:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the skill a name, e.g. “billing” or “German”."})
    if Skill.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"There is already a skill called “{name}”."})
    return Skill.objects.create(name=name)


def skill_delete(*, skill: Skill) -> None:
    skill.delete()


# --- Business calendars -------------------------------------------------------------------------


@transaction.atomic
def business_calendar_save(
    *,
    data: Mapping[str, Any],
    hours: Iterable[tuple[int, time, time]],
    holidays: Iterable[tuple[date, str]],
    calendar: BusinessCalendar | None = None,
) -> BusinessCalendar:
    """Creates or replaces a calendar with its weekly hours and holidays. Making it the default takes the flag
    from the previous default."""
    calendar = calendar or BusinessCalendar()
    _apply(calendar, data)
    if calendar.is_default:
        BusinessCalendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(is_default=False)
    calendar.full_clean()
    calendar.save()  # also when only hours or holidays changed: `updated` is the compiled-calendar cache key
    calendar.hours.all().delete()
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
        for weekday, opens, closes in hours
    )
    calendar.holidays.all().delete()
    Holiday.objects.bulk_create(Holiday(calendar=calendar, date=day, name=name) for day, name in holidays)
    return calendar


@transaction.atomic
def business_calendar_delete(*, calendar: BusinessCalendar) -> None:
    """The default calendar stays (policies without a calendar count in it); the others' users fall back to it."""
    if calendar.is_default:
        raise ValidationError("This is the default calendar. Make another calendar the default first.")
    calendar.delete()


# --- Categories ---------------------------------------------------------------------------------


@transaction.atomic
def category_save(*, data: Mapping[str, Any], category: Category | None = None) -> Category:
    category = category or Category()
    _apply(category, data)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Its tickets keep their history and become uncategorised."""
    category.delete()
