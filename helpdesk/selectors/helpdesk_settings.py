"""Reads of the helpdesk settings pages: policies, teams, agents, skills, calendars, categories, each in one go."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.roles import CAPABILITIES

from ..models import AgentProfile, BusinessCalendar, Category, Skill, SLAPolicy, SLARiskModel, Team, Ticket

OPEN = Q(status__in=Ticket.OPEN_STATUSES)


def sla_policy_queryset() -> QuerySet[SLAPolicy]:
    return (
        SLAPolicy.objects.select_related("calendar", "breach_reassign_team")
        .annotate(open_tickets=Count("ticket", filter=Q(ticket__status__in=Ticket.OPEN_STATUSES)))
        # Explicit: a GROUP BY query does not use Meta.ordering, and here the order is the meaning.
        .order_by("position", "id")
    )


def sla_policy_list() -> list[SLAPolicy]:
    return list(sla_policy_queryset())


def sla_policy_get(*, policy_id: int) -> SLAPolicy:
    return SLAPolicy.objects.get(pk=policy_id)


def risk_model_latest() -> SLARiskModel | None:
    return SLARiskModel.objects.defer("parameters").first()


def ticket_worker_roles() -> list[str]:
    return [role for role, capabilities in CAPABILITIES.items() if "tickets.edit" in capabilities]


def workers() -> QuerySet:
    """Active people who work tickets (the roles with `tickets.edit`), by name."""
    return get_user_model().objects.filter(is_active=True, role__in=ticket_worker_roles()).order_by("name", "email")


def team_list() -> list[Team]:
    teams = Team.objects.select_related("lead", "calendar").prefetch_related(
        Prefetch("members", queryset=get_user_model().objects.order_by("name", "email"))
    )
    open_counts = dict(Ticket.objects.open().filter(team__isnull=False).values_list("team_id").annotate(Count("id")))
    teams = list(teams)
    for team in teams:
        team.open_tickets = open_counts.get(team.pk, 0)
    return teams


def team_get(*, team_id: int) -> Team:
    return Team.objects.prefetch_related("members").get(pk=team_id)


@dataclass(frozen=True)
class AgentRow:
    user: object
    profile: AgentProfile | None
    skills: list[str]
    open_tickets: int
    teams: list[str]


def agent_rows() -> list[AgentRow]:
    """Everyone who works tickets, with their helpdesk profile (None until someone sets it up)."""
    people = list(
        workers()
        .select_related("agent_profile")
        .prefetch_related("agent_profile__skills", "helpdesk_teams")
        .annotate(open_tickets=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=Ticket.OPEN_STATUSES)))
    )
    rows = []
    for person in people:
        profile = getattr(person, "agent_profile", None)
        skills = [skill.name for skill in profile.skills.all()] if profile else []
        teams = [team.name for team in person.helpdesk_teams.all()]
        rows.append(
            AgentRow(user=person, profile=profile, skills=skills, open_tickets=person.open_tickets, teams=teams)
        )
    return rows


def agent_get(*, user_id: int):
    """A ticket worker of this workspace (DoesNotExist for anyone else)."""
    return workers().select_related("agent_profile").get(pk=user_id)


def skill_list() -> list[Skill]:
    return list(Skill.objects.annotate(agent_count=Count("agents")).order_by("name"))


def skill_get(*, skill_id: int) -> Skill:
    return Skill.objects.get(pk=skill_id)


def business_calendar_list() -> list[BusinessCalendar]:
    return list(
        BusinessCalendar.objects.prefetch_related("hours", "holidays")
        .annotate(policy_count=Count("slapolicy", distinct=True), team_count=Count("team", distinct=True))
        .order_by("-is_default", "name")
    )


def business_calendar_get(*, calendar_id: int) -> BusinessCalendar:
    return BusinessCalendar.objects.prefetch_related("hours", "holidays").get(pk=calendar_id)


def business_calendar_choices() -> QuerySet:
    return BusinessCalendar.objects.all()


def team_choices() -> QuerySet:
    return Team.objects.all()


def category_list() -> list[Category]:
    return list(Category.objects.select_related("default_team"))


def category_get(*, category_id: int) -> Category:
    return Category.objects.get(pk=category_id)
