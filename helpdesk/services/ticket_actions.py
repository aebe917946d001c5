"""Ticket actions: the field changes, assignments, tags and internal notes that macros and automation rules apply.

An action is a dict: {"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["billing"]}…
(ACTION_TYPES lists them). Applying a list happens in three steps:

1. `actions_clean` checks every action without a ticket (a rule or macro is checked when it is saved) and looks up
   the agents, teams and categories it names, in at most three queries;
2. `_plan` plays the actions in order on a copy of the ticket's fields (a later action sees an earlier one: "assign
   team Billing" then "assign the team lead" gives Billing's lead), refusing what this ticket makes impossible;
3. unless it is a dry run, the final values go through the helpdesk's own services (ticket_update, ticket_assign,
   ticket_status_set, message_add) in one transaction, so validation, history, live events, webhooks and insights'
   rollups happen as for a change made by hand. Each event and webhook carries `source` ("macro:3", "rule:12").

A dry run computes the same changes and writes nothing: no row, no event, no lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from core.emails import workspace_name
from core.links import workspace_url
from core.placeholders import placeholders_paths
from core.validation import required_text

from ..contracts import TicketActionResult, TicketActionSpec, TicketFieldChange
from ..models import Category, Team, Ticket, TicketMessage
from ..selectors.tickets import assignable_agents, ticket_filter_options
from ..validators import MAX_TAGS, normalize_tags
from . import assignment
from . import tickets as ticket_services

MAX_ACTIONS = 30

# type → (menu label, value kind)
ACTION_TYPES: dict[str, tuple[str, str]] = {
    "set_status": ("Set status", "choice"),
    "set_priority": ("Set priority", "choice"),
    "set_type": ("Set type", "choice"),
    "set_category": ("Set category", "choice"),
    "assign_agent": ("Assign to an agent", "user"),
    "assign_team": ("Assign to a team", "team"),
    "assign_round_robin": ("Assign to the next agent of a team (round-robin)", "team"),
    "assign_team_lead": ("Assign to the lead of the ticket's team", "none"),
    "add_tags": ("Add tags", "tags"),
    "remove_tags": ("Remove tags", "tags"),
    "add_note": ("Add an internal note", "text"),
}
FIELD_LABELS = {
    "status": "Status",
    "priority": "Priority",
    "type": "Type",
    "category": "Category",
    "team": "Team",
    "assignee": "Assignee",
    "tags": "Tags",
}
_CHOICE_FIELDS = {"set_status": Ticket.Status, "set_priority": Ticket.Priority, "set_type": Ticket.Type}


@dataclass(frozen=True)
class Step:
    """One checked action: `value` is what it names, looked up (a status value, a Category, a User, a Team, tags)."""

    index: int
    type: str
    value: Any = None


@dataclass
class _Fields:
    """The fields actions change, as they stand while the actions play."""

    status: str
    priority: str
    type: str
    category: Category | None
    team: Team | None
    assignee: Any
    tags: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, ticket: Ticket) -> _Fields:
        return cls(
            status=ticket.status,
            priority=ticket.priority,
            type=ticket.type,
            category=ticket.category,
            team=ticket.team,
            assignee=ticket.assignee,
            tags=list(ticket.tags),
        )


@dataclass
class _Plan:
    before: _Fields
    after: _Fields
    notes: list[str]
    picked: list  # AgentProfiles picked by round-robin, moved to the back of the line when applied
    reason: str = ""


# --- Specs --------------------------------------------------------------------------------------


def ticket_action_specs() -> list[TicketActionSpec]:
    """Every action with the workspace's current choices (two queries at most: the menus, the cached tags)."""
    options = ticket_filter_options()
    agents = tuple((str(choice.pk), choice.name) for choice in options.agents)
    teams = tuple((str(choice.pk), choice.name) for choice in options.teams)
    categories = tuple((str(choice.pk), choice.name) for choice in options.categories)
    choices: dict[str, tuple[tuple[str, str], ...]] = {
        "set_status": tuple(Ticket.Status.choices),
        "set_priority": tuple(Ticket.Priority.choices),
        "set_type": tuple(Ticket.Type.choices),
        "set_category": (("", "No category"), *categories),
        "assign_agent": (("", "Nobody (unassign)"), *agents),
        "assign_team": teams,
        "assign_round_robin": teams,
        "add_tags": tuple((tag, tag) for tag in options.tags),
        "remove_tags": tuple((tag, tag) for tag in options.tags),
    }
    return [
        TicketActionSpec(type=type_, label=label, value_kind=kind, choices=choices.get(type_, ()))
        for type_, (label, kind) in ACTION_TYPES.items()
    ]


# --- Checking -----------------------------------------------------------------------------------


def _key(index: int) -> str:
    """Errors are keyed by the action's place in the list ("actions.0"), so a builder shows each beside its row."""
    return f"actions.{index}"


def _id(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _ids(actions: Sequence[Mapping], types: set[str]) -> set[int]:
    found = set()
    for action in actions:
        if isinstance(action, Mapping) and action.get("type") in types:
            number = _id(action.get("value"))
            if number is not None:
                found.add(number)
    return found


def actions_clean(actions: Sequence[Mapping]) -> list[Step]:
    """Checks every action (all problems at once, keyed "actions.<n>") and returns them with what they name."""
    if isinstance(actions, str | bytes) or not isinstance(actions, Sequence):
        raise ValidationError({"actions": "Actions must be a list."})
    if len(actions) > MAX_ACTIONS:
        raise ValidationError({"actions": f"At most {MAX_ACTIONS} actions, please ({len(actions)} given)."})
    user_ids = _ids(actions, {"assign_agent"})
    team_ids = _ids(actions, {"assign_team", "assign_round_robin"})
    category_ids = _ids(actions, {"set_category"})
    users = assignable_agents().in_bulk(user_ids) if user_ids else {}
    teams = Team.objects.select_related("lead").in_bulk(team_ids) if team_ids else {}
    categories = Category.objects.in_bulk(category_ids) if category_ids else {}
    errors: dict[str, list[str]] = {}
    steps = []
    for index, action in enumerate(actions):
        try:
            steps.append(_step(index, action, users=users, teams=teams, categories=categories))
        except ValidationError as error:
            errors[_key(index)] = error.messages
    if errors:
        raise ValidationError(errors)
    return steps


def _step(index: int, action: Mapping, *, users: dict, teams: dict, categories: dict) -> Step:
    if not isinstance(action, Mapping) or action.get("type") not in ACTION_TYPES:
        kind = action.get("type") if isinstance(action, Mapping) else action
        names = ", ".join(label for label, _kind in ACTION_TYPES.values())
        raise ValidationError(f"“{kind}” is not an action. Choose one of: {names}.")
    type_, value = action["type"], action.get("value")
    if type_ in _CHOICE_FIELDS:
        choices = _CHOICE_FIELDS[type_]
        if value not in choices.values:
            noun = type_.removeprefix("set_")
            allowed = ", ".join(str(label) for label in choices.labels)
            raise ValidationError(f"Choose a {noun}: “{value or ''}” is not one ({allowed}).")
        return Step(index, type_, value)
    if type_ == "set_category":
        if value in (None, ""):
            return Step(index, type_, None)
        category = categories.get(_id(value))
        if category is None:
            raise ValidationError("That category no longer exists; choose another one.")
        return Step(index, type_, category)
    if type_ == "assign_agent":
        if value in (None, ""):
            return Step(index, type_, None)
        user = users.get(_id(value))
        if user is None:
            raise ValidationError("That agent cannot take tickets (deactivated, or not an agent); choose another one.")
        return Step(index, type_, user)
    if type_ in ("assign_team", "assign_round_robin"):
        if value in (None, ""):
            raise ValidationError("Choose a team.")
        team = teams.get(_id(value))
        if team is None:
            raise ValidationError("That team no longer exists; choose another one.")
        return Step(index, type_, team)
    if type_ in ("add_tags", "remove_tags"):
        tags = normalize_tags(value if isinstance(value, str | list | tuple) else "")
        if not tags:
            raise ValidationError("Name at least one tag.")
        return Step(index, type_, tags)
    if type_ == "add_note":
        text = value if isinstance(value, str) else ""
        try:
            note = required_text(text, field="value", label="The note", limit=ticket_services.MAX_BODY)
        except ValidationError as error:
            raise ValidationError(error.message_dict["value"]) from None
        return Step(index, type_, note)
    return Step(index, type_)  # assign_team_lead: the team is the ticket's, known only when applied


# --- Playing the actions ------------------------------------------------------------------------


def _plan(ticket: Ticket, steps: Sequence[Step], *, lock: bool) -> _Plan:
    before = _Fields.of(ticket)
    after = replace(before, tags=list(before.tags))
    plan = _Plan(before=before, after=after, notes=[], picked=[])
    status_set = False
    for step in steps:
        if step.type == "set_status":
            after.status, status_set = step.value, True
        elif step.type == "set_priority":
            after.priority = step.value
        elif step.type == "set_type":
            after.type = step.value
        elif step.type == "set_category":
            after.category = step.value
        elif step.type == "assign_agent":
            after.assignee = step.value
        elif step.type == "assign_team":
            after.team = step.value
        elif step.type == "assign_round_robin":
            profile, plan.reason = assignment.team_next_agent(ticket, step.value, lock=lock)
            after.team, after.assignee = step.value, getattr(profile, "user", None)
            if profile is not None:
                plan.picked.append(profile)
        elif step.type == "assign_team_lead":
            after.assignee = _team_lead(after.team, step.index)
        elif step.type == "add_tags":
            after.tags += [tag for tag in step.value if tag not in after.tags]
        elif step.type == "remove_tags":
            after.tags = [tag for tag in after.tags if tag not in step.value]
        elif step.type == "add_note":
            plan.notes.append(step.value)
    if len(after.tags) > MAX_TAGS:
        raise ValidationError({"actions": f"A ticket has at most {MAX_TAGS} tags; these actions leave it with more."})
    # ticket_assign opens a new ticket it gives to someone; a status action, applied after it, has the last word.
    assigning = _pk(after.assignee) != _pk(before.assignee) or _pk(after.team) != _pk(before.team)
    if not status_set and assigning and after.assignee is not None and before.status == Ticket.Status.NEW:
        after.status = Ticket.Status.OPEN
    if after.status != before.status and ticket.merged_into_id and after.status in Ticket.OPEN_STATUSES:
        raise ValidationError({"actions": f"This ticket was merged into #{ticket.merged_into_id}; reopen that one."})
    return plan


def _team_lead(team: Team | None, index: int):
    if team is None:
        raise ValidationError({_key(index): "This ticket has no team, so there is no team lead to assign it to."})
    lead = team.lead
    if lead is None or not lead.is_active:
        raise ValidationError({_key(index): f"{team.name} has no active lead to assign the ticket to."})
    return lead


def _pk(value: Any) -> int | None:
    return getattr(value, "pk", None)


def _shown(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "status":
        return str(Ticket.Status(value).label)
    if name == "priority":
        return str(Ticket.Priority(value).label)
    if name == "type":
        return str(Ticket.Type(value).label)
    if name == "assignee":
        return value.get_full_name()
    if name == "tags":
        return ", ".join(value)
    return str(value)


def _changes(plan: _Plan) -> tuple[TicketFieldChange, ...]:
    changes = []
    for name, label in FIELD_LABELS.items():
        old, new = getattr(plan.before, name), getattr(plan.after, name)
        same = _pk(old) == _pk(new) if name in ("category", "team", "assignee") else old == new
        if not same:
            changes.append(
                TicketFieldChange(field=name, label=label, before=_shown(name, old), after=_shown(name, new))
            )
    return tuple(changes)


def _users():
    return get_user_model().objects


def _actor(actor_id: int | None):
    if actor_id is None:
        return None
    actor = _users().filter(pk=actor_id).first()
    if actor is None:
        raise ValidationError({"actor": f"User #{actor_id} does not exist."})
    return actor


def _ticket(ticket_id: int, *, lock: bool) -> Ticket:
    tickets = Ticket.objects.select_related("category", "team__lead", "assignee")
    if lock:
        tickets = tickets.select_for_update(of=("self",))
    ticket = tickets.filter(pk=ticket_id).first()
    if ticket is None:
        raise ValidationError({"ticket": f"Ticket #{ticket_id} does not exist."})
    return ticket


def ticket_actions_apply(
    *, ticket_id: int, actions: Sequence[Mapping], actor_id: int | None, source: str, dry_run: bool = False
) -> TicketActionResult:
    """Checks every action, then applies them all in one transaction (or, with `dry_run`, only says what they would
    change). `actor_id` None: the system (a rule) made the change. Raises ValidationError, nothing applied."""
    steps = actions_clean(actions)
    actor = _actor(actor_id)
    source = (source or "")[:60]
    if dry_run:
        ticket = _ticket(ticket_id, lock=False)
        plan = _plan(ticket, steps, lock=False)
        return TicketActionResult(ticket_id=ticket.pk, changes=_changes(plan), note_added=bool(plan.notes))
    with transaction.atomic():
        ticket = _ticket(ticket_id, lock=True)
        plan = _plan(ticket, steps, lock=True)
        _write(ticket, plan, actor=actor, source=source)
    return TicketActionResult(ticket_id=ticket.pk, changes=_changes(plan), note_added=bool(plan.notes))


def _write(ticket: Ticket, plan: _Plan, *, actor, source: str) -> None:
    before, after = plan.before, plan.after
    data: dict[str, Any] = {}
    for name in ("priority", "type", "tags"):
        if getattr(after, name) != getattr(before, name):
            data[name] = getattr(after, name)
    if _pk(after.category) != _pk(before.category):
        data["category"] = after.category
    if data:
        ticket_services.ticket_update(ticket=ticket, actor=actor, data=data, source=source)
    if _pk(after.assignee) != _pk(before.assignee) or _pk(after.team) != _pk(before.team):
        ticket_services.ticket_assign(
            ticket=ticket,
            assignee=after.assignee,
            team=after.team,
            actor=actor,
            reason=plan.reason,  # round-robin's: who was picked and why, or why nobody
            source=source,
        )
        for profile in plan.picked:
            assignment.team_agent_picked(profile)
    if after.status != ticket.status:
        ticket_services.ticket_status_set(ticket=ticket, status=after.status, actor=actor, source=source)
    for note in plan.notes:
        ticket_services.message_add(ticket=ticket, actor=actor, body=note, kind=TicketMessage.Kind.NOTE, source=source)


# --- Placeholders -------------------------------------------------------------------------------


def _first_name(name: str) -> str:
    words = (name or "").split()
    return words[0] if words and "@" not in words[0] else ""


def _context(*, ticket: Ticket | None, actor) -> dict[str, Any]:
    """The one shape of the placeholder context; with no ticket, every value empty (for the list of paths)."""
    requester = getattr(ticket, "requester", None)
    assignee = getattr(ticket, "assignee", None)
    return {
        "ticket": {
            "id": str(ticket.pk) if ticket else "",
            "subject": ticket.subject if ticket else "",
            "status": ticket.get_status_display() if ticket else "",
            "priority": ticket.get_priority_display() if ticket else "",
            "link": _ticket_link(ticket) if ticket else "",
            "requester": {
                "name": getattr(requester, "name", "") or "",
                "first_name": _first_name(getattr(requester, "name", "")),
                "email": getattr(requester, "email", "") or "",
            },
            "company": {"name": ticket.customer.name if ticket else ""},
            "assignee": {
                "name": assignee.get_full_name() if assignee else "",
                "first_name": assignee.get_short_name() if assignee else "",
            },
            "team": {"name": ticket.team.name if ticket and ticket.team_id else ""},
        },
        "agent": {
            "name": actor.get_full_name() if actor else "",
            "first_name": actor.get_short_name() if actor else "",
        },
        "workspace": {"name": workspace_name() if ticket else ""},
    }


def _ticket_link(ticket: Ticket) -> str:
    try:
        return workspace_url(reverse("tickets:ticket_detail", kwargs={"ticket_id": ticket.pk}))
    except NoReverseMatch:
        return ""


TICKET_PLACEHOLDERS: tuple[str, ...] = tuple(placeholders_paths(_context(ticket=None, actor=None)))


def ticket_placeholder_context(ticket_id: int, *, actor_id: int | None = None) -> dict[str, Any]:
    """Plain nested dict of strings for core.placeholders: the ticket, its requester, company, assignee and team,
    the agent (`actor_id`) and the workspace. Two queries."""
    ticket = Ticket.objects.select_related("requester", "customer", "assignee", "team").filter(pk=ticket_id).first()
    if ticket is None:
        raise ValidationError({"ticket": f"Ticket #{ticket_id} does not exist."})
    actor = _users().filter(pk=actor_id).first() if actor_id is not None else None
    return _context(ticket=ticket, actor=actor)
