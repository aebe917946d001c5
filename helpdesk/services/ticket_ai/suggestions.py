"""An agent applies or dismisses what the analysis suggested; each decision is AI feedback and a ticket event.

Apply changes the ticket through helpdesk.services.tickets (so it is versioned, audited and pushed like any
edit); for sentiment and language, which the analysis already stored, Apply confirms and Dismiss clears them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ai import facade

from ... import live
from ...models import Category, Ticket, TicketEvent
from .. import tickets as ticket_services

logger = logging.getLogger(__name__)

FIELDS = ("category", "priority", "type")  # applied to the ticket through ticket_update
STORED = ("sentiment", "language")  # already on the ticket: confirmed or cleared
KINDS = FIELDS + STORED


def suggestion_feedback_record(run_id: int | None, outcome: str, *, actor, final_text: str | None = None) -> None:
    """Feedback on an AI run; a run that no longer exists (ledger pruned) is not the agent's problem."""
    if not run_id:
        return
    try:
        facade.record_feedback(run_id=run_id, outcome=outcome, final_text=final_text, user=actor)
    except facade.AIInputError:
        logger.warning("AI run #%s is gone; feedback %s not recorded", run_id, outcome)


def _open_suggestion(ticket: Ticket, kind: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValidationError({"kind": f"“{kind}” is not something the AI suggests; use one of: {', '.join(KINDS)}."})
    document = ticket.ai_suggestions if isinstance(ticket.ai_suggestions, dict) else {}
    entry = (document.get("suggestions") or {}).get(kind)
    if not entry:
        raise ValidationError({"kind": f"There is no {kind} suggestion on this ticket."})
    if entry.get("status", "open") != "open":
        raise ValidationError({"kind": f"The {kind} suggestion was already {entry['status']}."})
    return entry


def _value_for(kind: str, entry: dict[str, Any]) -> Any:
    if kind != "category":
        return entry["value"]
    category = Category.objects.filter(pk=entry["value"]).first()
    if category is None:
        raise ValidationError({"kind": "The suggested category no longer exists."})
    return category


def _decide(ticket_id: int, kind: str, status: str, actor, *, clear_field: bool = False) -> dict[str, Any]:
    """Marks the suggestion decided inside the ticket's document (row locked) and records the event."""
    locked = Ticket.objects.select_for_update().get(pk=ticket_id)
    document = dict(locked.ai_suggestions)
    entry = {**document["suggestions"][kind], "status": status, "decided_by": getattr(actor, "pk", None)}
    entry["decided_at"] = timezone.now().isoformat()
    document["suggestions"] = {**document["suggestions"], kind: entry}
    values: dict[str, Any] = {"ai_suggestions": document}
    if clear_field:
        values[kind] = ""
    Ticket.objects.filter(pk=ticket_id).update(**values)
    data = {"kind": kind, "action": status, "value": entry["value"], "label": entry.get("label", "")}
    data["run_id"] = entry.get("run_id")
    TicketEvent.objects.create(ticket_id=ticket_id, kind=TicketEvent.Kind.AI_SUGGESTION, actor=actor, data=data)
    live.ai_panel_changed(ticket_id)
    return entry


@transaction.atomic
def suggestion_apply(*, ticket: Ticket, kind: str, actor) -> Ticket:
    """Applies the suggestion to the ticket (category, priority, type) or confirms it (sentiment, language)."""
    entry = _open_suggestion(ticket, kind)
    if kind in FIELDS:
        ticket = ticket_services.ticket_update(ticket=ticket, actor=actor, data={kind: _value_for(kind, entry)})
    _decide(ticket.pk, kind, "applied", actor)
    suggestion_feedback_record(entry.get("run_id"), "accepted", actor=actor)
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def suggestion_dismiss(*, ticket: Ticket, kind: str, actor) -> Ticket:
    """The agent says the suggestion is wrong; a dismissed sentiment or language is also taken off the ticket."""
    entry = _open_suggestion(ticket, kind)
    _decide(ticket.pk, kind, "dismissed", actor, clear_field=kind in STORED)
    suggestion_feedback_record(entry.get("run_id"), "rejected", actor=actor)
    ticket.refresh_from_db()
    return ticket
