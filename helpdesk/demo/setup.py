"""The demo helpdesk's configuration: categories, teams, skills, agent profiles, a calendar and SLA policies.

Everything is looked up by name first, so running it again (or on a workspace someone configured already)
adds only what is missing and never changes what is there.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import transaction

from ..business_hours import CompiledCalendar, calendar_compiled
from ..models import AgentProfile, BusinessCalendar, BusinessHours, Category, Holiday, Skill, SLAPolicy, Team
from .text import CATEGORIES

CALENDAR_NAME = "Support hours (London)"
OPENING = (time(8), time(18))
TEAMS: dict[str, tuple[str, str]] = {
    "frontline": ("Frontline support", "First answers: how-to questions, orders and delivery, account changes, ideas."),
    "technical": ("Technical support", "Sign-in problems, bugs and performance."),
    "billing": ("Billing & accounts", "Invoices, payments, refunds and plan changes."),
}
LANGUAGE_SKILLS = ("German", "French", "Spanish")
# (name, position, conditions, first response, next response, resolution in business minutes, team on breach)
POLICIES = (
    ("Urgent tickets", 10, {"priority": "urgent"}, 30, 60, 240, "technical"),
    ("Enterprise customers", 20, {"customer_tier": "enterprise"}, 60, 120, 960, None),
    ("Standard", 100, {}, 240, 480, 2400, None),
)


@dataclass(frozen=True)
class DemoSetup:
    categories: dict[str, Category]
    teams: dict[str, Team]
    members: dict[str, list]
    policies: list[SLAPolicy]
    clock: CompiledCalendar


@transaction.atomic
def ensure_setup(*, agents: Sequence, rng: random.Random, today: date) -> DemoSetup:
    calendar = _calendar(today)
    teams, members = _teams(agents, calendar)
    categories = _categories(teams)
    _profiles(agents, members, rng)
    policies = _policies(teams)
    return DemoSetup(categories, teams, members, policies, calendar_compiled(calendar))


def _calendar(today: date) -> BusinessCalendar:
    """The workspace's default calendar; the demo one (weekdays 8–18 in London, bank holidays) if none."""
    calendar = BusinessCalendar.objects.filter(is_default=True).first()
    if calendar is not None:
        return calendar
    calendar, created = BusinessCalendar.objects.get_or_create(
        name=CALENDAR_NAME, defaults={"timezone": "Europe/London", "is_default": True}
    )
    if created:
        BusinessHours.objects.bulk_create(
            BusinessHours(calendar=calendar, weekday=weekday, opens=OPENING[0], closes=OPENING[1])
            for weekday in range(5)
        )
        Holiday.objects.bulk_create(
            Holiday(calendar=calendar, date=day, name=name)
            for year in (today.year - 1, today.year, today.year + 1)
            for day, name in english_bank_holidays(year)
        )
    return calendar


def english_bank_holidays(year: int) -> list[tuple[date, str]]:
    easter = _easter(year)
    return [
        (date(year, 1, 1), "New Year's Day"),
        (easter - timedelta(days=2), "Good Friday"),
        (easter + timedelta(days=1), "Easter Monday"),
        (_nth_monday(year, 5, first=True), "Early May bank holiday"),
        (_nth_monday(year, 5, first=False), "Spring bank holiday"),
        (_nth_monday(year, 8, first=False), "Summer bank holiday"),
        (date(year, 12, 25), "Christmas Day"),
        (date(year, 12, 26), "Boxing Day"),
    ]


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_monday(year: int, month: int, *, first: bool) -> date:
    if first:
        day = date(year, month, 1)
        return day + timedelta(days=(7 - day.weekday()) % 7)
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def _teams(agents: Sequence, calendar: BusinessCalendar) -> tuple[dict[str, Team], dict[str, list]]:
    """Three teams; agents are dealt round-robin (admins first, so one leads a team)."""
    people = sorted(agents, key=lambda user: (user.role != "admin", user.email))
    teams: dict[str, Team] = {}
    members: dict[str, list] = {key: [] for key in TEAMS}
    for index, person in enumerate(people):
        members[list(TEAMS)[index % len(TEAMS)]].append(person)
    for key, (name, description) in TEAMS.items():
        team, created = Team.objects.get_or_create(name=name, defaults={"description": description})
        if created:
            team.calendar = calendar
            team.lead = members[key][0] if members[key] else None
            team.save(update_fields=["calendar", "lead"])
            team.members.add(*members[key])
        else:
            members[key] = list(team.members.all()) or members[key]
        teams[key] = team
    return teams, members


def _categories(teams: dict[str, Team]) -> dict[str, Category]:
    categories = {}
    for key, spec in CATEGORIES.items():
        categories[key], _ = Category.objects.get_or_create(
            name=spec["name"], defaults={"description": spec["description"], "default_team": teams[spec["team"]]}
        )
    return categories


def _profiles(agents: Sequence, members: dict[str, list], rng: random.Random) -> None:
    """Skills named like the categories a team handles, a language for some; one agent away, one busy."""
    skills = {name: Skill.objects.get_or_create(name=name)[0] for name in _skill_names()}
    team_of = {person.pk: key for key, people in members.items() for person in people}
    for index, agent in enumerate(sorted(agents, key=lambda user: user.email)):
        profile, created = AgentProfile.objects.get_or_create(
            user=agent,
            defaults={
                "availability": _availability(index, len(agents)),
                "max_open_tickets": rng.choice((15, 20, 25, 30)),
            },
        )
        if not created:
            continue
        team = team_of.get(agent.pk, "frontline")
        names = [spec["name"] for spec in CATEGORIES.values() if spec["team"] == team]
        if rng.random() < 0.4:
            names.append(rng.choice(LANGUAGE_SKILLS))
        profile.skills.add(*(skills[name] for name in names))


def _skill_names() -> list[str]:
    return [spec["name"] for spec in CATEGORIES.values()] + list(LANGUAGE_SKILLS)


def _availability(index: int, count: int) -> str:
    if count > 3 and index == count - 1:
        return AgentProfile.Availability.AWAY
    if count > 4 and index == count - 2:
        return AgentProfile.Availability.BUSY
    return AgentProfile.Availability.AVAILABLE


def _policies(teams: dict[str, Team]) -> list[SLAPolicy]:
    policies = []
    for name, position, conditions, first, following, resolution, breach_team in POLICIES:
        policy, _ = SLAPolicy.objects.get_or_create(
            name=name,
            defaults={
                "position": position,
                "first_response_minutes": first,
                "next_response_minutes": following,
                "resolution_minutes": resolution,
                "breach_reassign_team": teams.get(breach_team) if breach_team else None,
                **conditions,
            },
        )
        policies.append(policy)
    return sorted(policies, key=lambda policy: (policy.position, policy.pk))
