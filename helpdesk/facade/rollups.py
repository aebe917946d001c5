"""What insights' rollups read of tickets: one flat fact per ticket (its dimensions and the times it counts at),
for a few ids (an event) or every ticket touched since a time (the nightly repair), streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q

from core.compiled import RowsById

from ..contracts import TicketRollupFact
from ..models import Ticket

_FIELDS = (
    "id",
    "created",
    "status",
    "priority",
    "channel",
    "category_id",
    "team_id",
    "assignee_id",
    "customer__tier",
    "sla_policy_id",
    "sla_breached",
    "first_responded_at",
    "solved_at",
    "survey__rating",
    "survey__answered_at",
)


# An event's few rows by a statement compiled once (core.compiled): the ORM's compile costs more than the query.
_TICKET_ROWS = RowsById(Ticket, lambda of_ids: Ticket.objects.filter(of_ids).values_list(*_FIELDS))


def ticket_rollup_facts(
    *, ids: Iterable[int] | None = None, since: datetime | None = None
) -> Iterator[TicketRollupFact]:
    """Tickets with `ids`, or (`since`) every ticket created, changed, answered or rated since then; all without
    either. One query, read in chunks (a year of tickets never sits in memory as model instances)."""
    if ids is not None and since is None:
        rows: Iterable[tuple] = _TICKET_ROWS(list(ids))
    else:
        tickets = Ticket.objects.order_by()
        if ids is not None:
            tickets = tickets.filter(pk__in=list(ids))
        if since is not None:
            tickets = tickets.filter(
                Q(created__gte=since)
                | Q(updated__gte=since)
                | Q(first_responded_at__gte=since)
                | Q(solved_at__gte=since)
                | Q(survey__answered_at__gte=since)
            )
        rows = tickets.values_list(*_FIELDS).iterator(chunk_size=5000)  # from a server-side cursor
    for row in rows:
        (pk, created, status, priority, channel, category, team, assignee, tier, policy, breached, first, solved,
         rating, rated) = row  # fmt: skip
        yield TicketRollupFact(
            id=pk,
            created=created,
            status=status,
            priority=priority,
            channel=channel,
            category_id=category,
            team_id=team,
            assignee_id=assignee,
            customer_tier=tier or "",
            sla_tracked=policy is not None,
            sla_breached=breached,
            first_responded_at=first,
            solved_at=solved,
            csat_rating=rating if rated is not None else None,
            csat_answered_at=rated if rating is not None else None,
        )
