"""@mentions in internal notes: "@Dana", "@Dana Agent" or "@dana.agent" (the email's local part) names an active
teammate who works tickets; each one named is notified (notifications.facade), never the note's author."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import reverse

from accounts import facade as accounts
from notifications import facade as notifications

from ..models import Ticket, TicketMessage

TICKET_MENTIONED = "ticket.mentioned"  # registered by notifications (its own event type)
_AT = re.compile(r"(?<![\w@.])@")
EXCERPT = 200


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str


def _handles(people: list[Person]) -> list[tuple[str, int]]:
    """Every way to name each person, longest first (so "@Dana Agent" wins over "@Dana"); first names only when
    no one else shares them."""
    handles: list[tuple[str, int]] = []
    first_names: dict[str, list[int]] = {}
    for person in people:
        if person.name:
            handles.append((person.name.lower(), person.id))
            first_names.setdefault(person.name.split()[0].lower(), []).append(person.id)
        handles.append((person.email.partition("@")[0].lower(), person.id))
    handles += [(first, ids[0]) for first, ids in first_names.items() if len(ids) == 1]
    return sorted(set(handles), key=lambda handle: -len(handle[0]))


def mentioned_ids(text: str, people: list[Person]) -> list[int]:
    """The people `text` @mentions, in order of first mention."""
    found: list[int] = []
    lowered = text.lower()
    handles = _handles(people)
    for match in _AT.finditer(text):
        rest = lowered[match.end() :]
        for handle, person_id in handles:
            if rest.startswith(handle) and not rest[len(handle) : len(handle) + 1].isalnum():
                if person_id not in found:
                    found.append(person_id)
                break
    return found


def mentions_notify(*, ticket: Ticket, message: TicketMessage, actor) -> list[int]:
    """Notifies the teammates an internal note mentions (after commit); returns their ids."""
    if message.kind != TicketMessage.Kind.NOTE or "@" not in message.body:
        return []
    people = [Person(*row) for row in accounts.capability_contacts("tickets.edit")]
    ids = [person_id for person_id in mentioned_ids(message.body, people) if person_id != getattr(actor, "pk", None)]
    if not ids:
        return []
    excerpt = " ".join(message.body.split())
    notifications.notify(
        recipients=ids,
        event=TICKET_MENTIONED,
        context={
            "ticket": {"id": str(ticket.pk), "subject": ticket.subject},
            "actor": {"name": actor.get_full_name() if actor else ""},
            "note": {"excerpt": excerpt[:EXCERPT] + ("…" if len(excerpt) > EXCERPT else "")},
        },
        link=reverse("tickets:ticket_detail", args=[ticket.pk]),
        actor_id=getattr(actor, "pk", None),
        dedupe_key=f"mention:{message.pk}",
    )
    return ids
