"""What notifications hears from other apps by signal: ticket changes (followers are told, never the one who made
the change) and a spent AI budget (`ai` may import no domain app, so it announces it in ai.contracts)."""

from __future__ import annotations

import logging

from django.urls import reverse

logger = logging.getLogger(__name__)

FOLLOWED_EVENTS = {"ticket.updated", "ticket.solved", "message.created"}
FOLLOWED_FIELDS = ("assignee", "status", "priority", "team", "subject")


def register() -> None:
    from ai.contracts import budget_exhausted
    from helpdesk.contracts import ticket_event, ticket_event_wanted

    ticket_event_wanted.connect(ticket_event_wanted_followers, dispatch_uid="notifications-followers-wanted")
    ticket_event.connect(ticket_event_followers, dispatch_uid="notifications-followers")
    budget_exhausted.connect(ai_budget_exhausted, dispatch_uid="notifications-ai-budget")


def ticket_event_wanted_followers(sender, *, event: str, **kwargs) -> bool:
    """Describe the event only when anyone in the workspace follows a ticket (one index probe)."""
    from .models import Follow

    return event in FOLLOWED_EVENTS and Follow.objects.filter(object_type="ticket").exists()


def change_summary(payload) -> str:
    if payload.event == "message.created":
        return "a new reply"
    if payload.event == "ticket.solved":
        return "solved"
    parts = []
    for name, values in (payload.data.get("changes") or {}).items():
        if name in FOLLOWED_FIELDS and isinstance(values, list | tuple) and len(values) == 2:
            old, new = values
            parts.append(f"{name}: {old or '—'} → {new or '—'}")
    return "; ".join(parts)


def ticket_event_followers(sender, *, event, **kwargs) -> None:
    """The ticket's followers hear of a reply, a solve, or a change of status, priority, assignee, team, subject."""
    from accounts import facade as accounts

    from .events import TICKET_FOLLOWED_CHANGED
    from .services import followers, notify

    if event.event not in FOLLOWED_EVENTS:
        return
    people = [
        user_id for user_id in followers(object_type="ticket", object_id=event.ticket_id) if user_id != event.actor_id
    ]
    summary = change_summary(event)
    if not people or not summary:
        return
    ticket = event.ticket or {}
    actor = accounts.user_names([event.actor_id]).get(event.actor_id, "") if event.actor_id else ""
    notify(
        recipients=people,
        event=TICKET_FOLLOWED_CHANGED,
        context={
            "ticket": {
                "id": str(event.ticket_id),
                "subject": str(ticket.get("subject", "")),
                "status": str(ticket.get("status", "")),
            },
            "actor": {"name": actor},
            "change": {"summary": summary},
        },
        link=reverse("tickets:ticket_detail", args=[event.ticket_id]),
        actor_id=event.actor_id,
    )


def ai_budget_exhausted(sender, *, notice, **kwargs) -> int:
    """Owners and admins (notifications.manage) hear once per provider and month."""
    from accounts import facade as accounts

    from .events import AI_BUDGET_EXHAUSTED
    from .services import notify

    recipients = list(accounts.capability_people("notifications.manage"))
    notify(
        recipients=recipients,
        event=AI_BUDGET_EXHAUSTED,
        context={"provider": {"name": notice.provider_name}, "month": notice.month_label},
        link="/settings/ai/",
        dedupe_key=f"ai-budget:{notice.config_id}:{notice.month}",
    )
    return len(recipients)
