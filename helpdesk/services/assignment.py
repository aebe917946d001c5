"""Automatic assignment of new tickets: the team from the category, the agent by availability, room, skills, load
and turn.

Among the team's members (everyone who works tickets when the team has none): agents marked available whose open
tickets are under their maximum; those whose skills match the ticket's category or language first; then the
fewest open tickets; then round-robin (whoever got a ticket longest ago). The candidate row is locked with SKIP
LOCKED, so two tickets created at the same moment go to two different agents. It never fails the caller: with
nobody to take it the ticket stays in the queue, and the reason is in its history either way.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import get_language_info

from ..models import AgentProfile, Team, Ticket, TicketEvent
from ..selectors.config import helpdesk_settings_get
from ..selectors.helpdesk_settings import ticket_worker_roles

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssignmentResult:
    agent: object | None  # the user who got the ticket, None when it waits in the queue
    team: Team | None
    reason: str

    @property
    def assigned(self) -> bool:
        return self.agent is not None


def ticket_auto_assign(ticket: Ticket) -> AssignmentResult:
    """Assigns a new ticket when the workspace has auto-assign on. Never raises: a failure leaves it unassigned."""
    try:
        with transaction.atomic():
            return _auto_assign(ticket)
    except Exception:
        logger.exception("automatic assignment of ticket #%s failed", ticket.pk)
        return AssignmentResult(
            agent=None, team=ticket.team, reason="Automatic assignment failed; it waits in the queue."
        )


def _auto_assign(ticket: Ticket) -> AssignmentResult:
    from . import tickets as ticket_services  # tickets.py calls this module from ticket_create

    if not helpdesk_settings_get().auto_assign:
        return AssignmentResult(agent=ticket.assignee, team=ticket.team, reason="Automatic assignment is off.")
    if ticket.assignee_id:
        return AssignmentResult(agent=ticket.assignee, team=ticket.team, reason="Already assigned.")
    team = ticket.team or (ticket.category.default_team if ticket.category_id else None)
    wanted = _wanted_skills(ticket)
    profile = _candidates(team, wanted).first()
    if profile is None and not AgentProfile.objects.exists():
        # Nobody set up for assignment yet (Settings → Helpdesk → Agents): not worth a line in every history.
        return AssignmentResult(agent=None, team=ticket.team, reason="No agent profiles yet.")
    if profile is None:
        reason = _nobody_reason(team)
        if team is not None and ticket.team_id != team.pk:
            ticket_services.ticket_assign(ticket=ticket, assignee=None, team=team, actor=None, reason=reason)
        else:
            TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.ASSIGNED, data={"reason": reason})
        return AssignmentResult(agent=None, team=team, reason=reason)
    reason = _picked_reason(profile, team, wanted)
    ticket_services.ticket_assign(ticket=ticket, assignee=profile.user, team=team, actor=None, reason=reason)
    AgentProfile.objects.filter(pk=profile.pk).update(last_assigned_at=timezone.now())
    return AssignmentResult(agent=profile.user, team=team, reason=reason)


def team_next_agent(ticket: Ticket, team: Team, *, lock: bool = True) -> tuple[AgentProfile | None, str]:
    """The agent of `team` whose turn it is for this ticket, by the same rules as automatic assignment (available,
    room, skills, load, then round-robin), and why; None when nobody in the team can take it now. With `lock` the
    profile row is locked (SKIP LOCKED) for the caller's transaction; a preview passes lock=False."""
    wanted = _wanted_skills(ticket)
    candidates = _candidates(team, wanted)
    if not lock:
        candidates.query.select_for_update = False
    profile = candidates.first()
    if profile is None:
        return None, _nobody_reason(team)
    return profile, _picked_reason(profile, team, wanted)


def team_agent_picked(profile: AgentProfile) -> None:
    """Moves the agent to the back of the round-robin line (they just got a ticket)."""
    AgentProfile.objects.filter(pk=profile.pk).update(last_assigned_at=timezone.now())


def _wanted_skills(ticket: Ticket) -> set[str]:
    """Skill names (lower case) this ticket would like: its category's name, its language code and name."""
    wanted = set()
    if ticket.category_id:
        wanted.add(ticket.category.name.lower())
    if ticket.language:
        wanted.add(ticket.language.lower())
        with contextlib.suppress(KeyError):
            wanted.add(get_language_info(ticket.language)["name"].lower())
    return wanted


def _candidates(team: Team | None, wanted: set[str]):
    """Available agents with room, best first, the first one locked (SKIP LOCKED: a concurrent pick takes the next)."""
    open_tickets = (
        Ticket.objects.filter(assignee=OuterRef("user_id"), status__in=Ticket.OPEN_STATUSES)
        .order_by()
        .values("assignee")
        .annotate(count=Count("id"))
        .values("count")
    )
    skill_matches = (
        AgentProfile.skills.through.objects.filter(agentprofile_id=OuterRef("pk"))
        .annotate(name=Lower("skill__name"))
        .filter(name__in=wanted)
        .order_by()
        .values("agentprofile_id")
        .annotate(count=Count("id"))
        .values("count")
    )
    profiles = AgentProfile.objects.filter(
        availability=AgentProfile.Availability.AVAILABLE, user__is_active=True, user__role__in=ticket_worker_roles()
    )
    if team is not None and team.members.exists():
        profiles = profiles.filter(user__helpdesk_teams=team)
    zero = Value(0, output_field=IntegerField())
    return (
        profiles.annotate(
            open_count=Coalesce(Subquery(open_tickets, output_field=IntegerField()), zero),
            skill_count=Coalesce(Subquery(skill_matches, output_field=IntegerField()), zero) if wanted else zero,
        )
        .filter(open_count__lt=F("max_open_tickets"))
        .order_by("-skill_count", "open_count", F("last_assigned_at").asc(nulls_first=True), "user_id")
        .select_related("user")
        .select_for_update(skip_locked=True, of=("self",))
    )


def _picked_reason(profile: AgentProfile, team: Team | None, wanted: set[str]) -> str:
    names = profile.skills.values_list("name", flat=True) if profile.skill_count else []
    skills = sorted(name for name in names if name.lower() in wanted)
    parts = [
        f"{profile.user.get_full_name()} is available",
        f"has {profile.open_count} of at most {profile.max_open_tickets} open tickets",
    ]
    if skills:
        parts.append(f"knows {', '.join(skills)}")
    elif wanted:
        parts.append(f"nobody available knows {', '.join(sorted(wanted))}")
    rule = "fewest open tickets, then whoever waited longest for one"
    where = f" in {team.name}" if team is not None else ""
    return f"Auto-assigned{where}: {'; '.join(parts)} ({rule})."


def _nobody_reason(team: Team | None) -> str:
    where = f" in {team.name}" if team is not None else ""
    return f"Not auto-assigned: nobody{where} is available with room for another ticket; it waits in the queue."
