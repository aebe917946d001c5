"""Solved tickets in the semantic index (ai.facade.index_text, source "helpdesk.ticket"): the memory behind
"similar solved tickets" in the analysis and the reply drafts. A ticket joins when solved and leaves when reopened.
"""

from __future__ import annotations

from ai import facade
from core.outbox import enqueue_on_commit

from ...models import Ticket
from ...selectors import ticket_ai as selectors
from ...selectors.ticket_ai import TICKET_SOURCE

BACKFILL_BATCH = 256


def ticket_status_changed(ticket: Ticket, *, old: str) -> None:
    """Hook of ticket_status_set: a newly solved ticket is indexed after commit (embedding is slow, so in Celery);
    a reopened one is forgotten at once."""
    done, was_done = ticket.status in Ticket.DONE_STATUSES, old in Ticket.DONE_STATUSES
    if done and not was_done:
        from ...tasks.ticket_ai import solved_ticket_index_task  # tasks import the services

        enqueue_on_commit(solved_ticket_index_task, ticket.pk)
    elif was_done and not done:
        facade.forget_text(source=TICKET_SOURCE, object_id=ticket.pk)


def solved_ticket_index(*, ticket_id: int) -> bool:
    """(Re)embeds a solved ticket's problem; True when stored. No agent answer to reuse: it is left out."""
    text = selectors.solved_index_texts(ids=[ticket_id]).get(ticket_id)
    if text is None:
        facade.forget_text(source=TICKET_SOURCE, object_id=ticket_id)
        return False
    facade.index_text(source=TICKET_SOURCE, object_id=ticket_id, text=text)
    return True


def solved_tickets_index_all() -> int:
    """Indexes every solved ticket (demo data, an import, tickets solved while the broker was down); unchanged
    texts are skipped by the vector store. Returns how many were (re)embedded."""
    written, after_id = 0, 0
    while ids := selectors.solved_ticket_ids(after_id=after_id, limit=BACKFILL_BATCH):
        texts = selectors.solved_index_texts(ids=ids)
        written += facade.index_texts(source=TICKET_SOURCE, items=list(texts.items()))
        after_id = ids[-1]
    return written
