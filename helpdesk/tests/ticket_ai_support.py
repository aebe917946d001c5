"""Shared data for the ticket-AI tests: the labelled ticket set of the AI app, its categories, quick builders."""

from __future__ import annotations

import json
from pathlib import Path

from helpdesk.models import Category, Ticket, TicketMessage
from helpdesk.services import ticket_ai

DATA = Path(__file__).resolve().parents[2] / "ai" / "tests" / "data"
LABELS: dict[str, str] = json.loads((DATA / "labels.json").read_text())
LABELLED = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]


def labelled(per_label: int, *, skip: int = 0) -> list[dict]:
    """The first `per_label` tickets of each label after skipping `skip` of each (the file is a fixed shuffle)."""
    seen: dict[str, int] = {}
    chosen = []
    for row in LABELLED:
        count = seen.get(row["label"], 0)
        seen[row["label"]] = count + 1
        if skip <= count < skip + per_label:
            chosen.append(row)
    return chosen


def categories() -> dict[str, Category]:
    """The eight categories of the labelled set, with the descriptions the zero-shot classifier reads."""
    return {
        name: Category.objects.get_or_create(name=name, defaults={"description": description})[0]
        for name, description in LABELS.items()
    }


def analysed(ticket: Ticket) -> Ticket:
    """Runs the analysis synchronously (as the worker would) and returns the fresh ticket."""
    ticket_ai.ticket_analyze(ticket.pk)
    ticket.refresh_from_db()
    return ticket


def solve_with_reply(ticket: Ticket, agent, reply: str) -> Ticket:
    """An agent's answer, then solved and indexed for "similar solved tickets" (what the worker does on commit)."""
    TicketMessage.objects.create(ticket=ticket, body=reply, author=agent, kind=TicketMessage.Kind.REPLY)
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.SOLVED)
    ticket_ai.solved_ticket_index(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    return ticket
