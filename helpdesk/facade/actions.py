"""Ticket actions for macros and automation rules: what may be done to a ticket (with the workspace's current
choices), doing it (or a dry run of it) through the helpdesk's services, and the placeholder values of a ticket
for workspace-written text (core.placeholders). See helpdesk/services/ticket_actions.py for the action dicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..contracts import TicketActionResult, TicketActionSpec
from ..services import ticket_actions as services

TICKET_ACTION_TYPES: tuple[str, ...] = tuple(services.ACTION_TYPES)
# Every placeholder path ticket_placeholder_context fills ("ticket.requester.first_name", …), for forms that
# refuse unknown ones (core.placeholders.placeholders_unknown) and list what may be used.
TICKET_PLACEHOLDERS: tuple[str, ...] = services.TICKET_PLACEHOLDERS


def ticket_action_specs() -> list[TicketActionSpec]:
    """Every action a builder may offer, with the workspace's current statuses, priorities, types, categories,
    agents, teams (and tags in use, as suggestions)."""
    return services.ticket_action_specs()


def ticket_actions_validate(actions: Sequence[Mapping]) -> None:
    """Checks a list of actions without a ticket (when a macro or rule is saved). ValidationError keyed
    "actions.<n>" by the action's place in the list, with messages a person understands."""
    services.actions_clean(actions)


def ticket_actions_apply(
    *, ticket_id: int, actions: Sequence[Mapping], actor_id: int | None, source: str, dry_run: bool = False
) -> TicketActionResult:
    """Checks every action, then applies them in order, all in one transaction, through the helpdesk's services
    (history, live events, webhooks and rollups as for a change by hand). `actor_id` None means the system.
    `source` ("macro:3", "rule:12") goes into the ticket's history and the `data["source"]` of the webhook
    events. `dry_run` computes the same changes and writes nothing. Raises ValidationError, nothing applied."""
    return services.ticket_actions_apply(
        ticket_id=ticket_id, actions=actions, actor_id=actor_id, source=source, dry_run=dry_run
    )


def ticket_placeholder_context(ticket_id: int, *, actor_id: int | None = None) -> dict[str, Any]:
    """A plain nested dict of strings for core.placeholders (ticket.id/subject/status/priority/link,
    ticket.requester.name/first_name/email, ticket.company.name, ticket.assignee.name/first_name, ticket.team.name,
    agent.name/first_name for `actor_id`, workspace.name)."""
    return services.ticket_placeholder_context(ticket_id, actor_id=actor_id)
