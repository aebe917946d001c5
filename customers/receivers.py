"""Where customers listen to the helpdesk: ticket events that change a company's health queue its recompute."""

from __future__ import annotations

from django.dispatch import receiver

from helpdesk.contracts import (
    CSAT_RECEIVED,
    SLA_BREACHED,
    TICKET_CREATED,
    TICKET_SOLVED,
    TicketEventPayload,
    ticket_event,
    ticket_event_wanted,
)

# What moves a health driver: volume and last contact (created), open urgent (solved), SLA, CSAT. Replies and field
# edits are left to the beat job: they are the bulk of events and move the score little.
HEALTH_EVENTS = frozenset({TICKET_CREATED, TICKET_SOLVED, SLA_BREACHED, CSAT_RECEIVED})


@receiver(ticket_event_wanted, dispatch_uid="customers-health-wanted")
def ticket_event_wanted_health(sender, *, event: str, **kwargs) -> bool:
    return event in HEALTH_EVENTS


@receiver(ticket_event, dispatch_uid="customers-health")
def ticket_event_health(sender, *, event: TicketEventPayload, **kwargs) -> None:
    """Queues (debounced) a recompute of the ticket's company; never computes in the request."""
    if event.event not in HEALTH_EVENTS:
        return
    customer_id = (event.ticket.get("customer") or {}).get("id")
    if customer_id:
        from .health import health_refresh_soon

        health_refresh_soon(customer_id)
