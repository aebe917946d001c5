"""The demo helpdesk's macros: a handful of shared ones an agent would use daily, and one personal one, with
usage counts. Looked up by name, so running it again adds only what is missing."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from ..models import Macro, Team
from ..services import ticket_actions
from ..services.macros import actions_stored, reply_text_check

# (name, description, reply text, actions; "{team:<key>}" names a demo team by its key in setup.TEAMS)
SHARED = (
    (
        "Refund issued",
        "The customer was charged twice or wants their money back, and the refund went out.",
        'Hi {{ ticket.requester.first_name|default:"there" }},\n\nI have refunded the charge: it shows on your '
        "statement within 5–10 business days. If it has not arrived by then, just reply here.\n\n"
        "Best,\n{{ agent.first_name }}",
        [
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": ["billing", "refund"]},
            {"type": "assign_team", "value": "{team:billing}"},
        ],
    ),
    (
        "Password reset link",
        "Cannot sign in: send the reset steps and wait for their answer.",
        'Hi {{ ticket.requester.first_name|default:"there" }},\n\nUse **Forgot password** on the sign-in page '
        "and follow the link we email you (it works for one hour). Tell me if the email does not arrive.\n\n"
        "{{ agent.first_name }}",
        [{"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["account", "password"]}],
    ),
    (
        "Ask for more details",
        "Not enough to go on yet: ask for steps, screenshots and the account.",
        'Hi {{ ticket.requester.first_name|default:"there" }},\n\nThanks for reporting this. So that we can '
        "reproduce it, could you send:\n\n1. the steps that lead to the problem,\n2. a screenshot,\n"
        "3. the email address of the account.\n\n{{ agent.first_name }}",
        [{"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["needs-info"]}],
    ),
    (
        "Escalate to technical support",
        "A bug or outage frontline cannot solve: to the technical team's lead, with a note.",
        "",
        [
            {"type": "assign_team", "value": "{team:technical}"},
            {"type": "assign_team_lead"},
            {"type": "set_priority", "value": "high"},
            {"type": "add_tags", "value": ["escalated"]},
            {"type": "add_note", "value": "Escalated from frontline: please take a look at the steps above."},
        ],
    ),
    (
        "Solved, thanks",
        "Close the loop when the customer confirmed it works.",
        'Glad it works now, {{ ticket.requester.first_name|default:"and thanks" }}! I am marking this request as '
        "solved; a reply here opens it again.\n\n{{ agent.first_name }}",
        [{"type": "set_status", "value": "solved"}],
    ),
)
PERSONAL = (
    "My sign-off",
    "Closing lines with my name.",
    "Have a good day,\n{{ agent.name }}\n{{ workspace.name }} support",
    [],
)


def ensure_macros(*, agents: Sequence, teams: dict[str, Team], rng: random.Random, now: datetime) -> int:
    """Adds the demo macros the workspace does not have by name; returns how many were added."""
    if not agents:
        return 0
    existing = set(Macro.objects.values_list("name", flat=True))
    added = 0
    for name, description, text, actions in SHARED:
        if name in existing:
            continue
        _create(name, description, text, _with_teams(actions, teams), Macro.Visibility.SHARED, agents[0], rng, now)
        added += 1
    name, description, text, actions = PERSONAL
    if name not in existing:
        _create(name, description, text, actions, Macro.Visibility.PERSONAL, agents[-1], rng, now)
        added += 1
    return added


def _with_teams(actions: list[dict], teams: dict[str, Team]) -> list[dict]:
    resolved = []
    for action in actions:
        value = action.get("value")
        if isinstance(value, str) and value.startswith("{team:"):
            team = teams.get(value[len("{team:") : -1])
            if team is None:
                continue
            action = {**action, "value": str(team.pk)}
        resolved.append(action)
    return resolved


def _create(name, description, text, actions, visibility, owner, rng: random.Random, now: datetime) -> Macro:
    usage = rng.randint(12, 240)
    return Macro.objects.create(
        name=name,
        description=description,
        reply_text=reply_text_check(text),  # the demo's own texts pass the check every workspace's do
        actions=actions_stored(ticket_actions.actions_clean(actions)),
        visibility=visibility,
        owner=owner,
        usage_count=usage,
        last_used_at=now - timedelta(hours=rng.randint(1, 72)),
    )
