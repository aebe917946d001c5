"""Where automation listens: the events other apps send through their contracts (after commit), each turned into
one queued evaluation with ids only. Connected from AutomationConfig.ready."""

from __future__ import annotations

from typing import Any

from customers import contracts as customers_contracts
from helpdesk.contracts import TicketEventPayload, ticket_event, ticket_event_wanted
from leads import contracts as leads_contracts
from quotes import contracts as quotes_contracts

from .catalog import CUSTOMER, LEAD, QUOTE, TICKET


def _ticket_event(sender, *, event: TicketEventPayload, **kwargs: Any) -> None:
    from .engine import event_queue

    data = event.data or {}
    changes = data.get("changes") if isinstance(data.get("changes"), dict) else {}
    event_queue(event.event, TICKET, event.ticket_id, changed=list(changes), source=str(data.get("source") or ""))


def _ticket_event_wanted(sender, *, event: str, **kwargs: Any) -> bool:
    from .engine import event_wanted

    return event_wanted(event)


def _object_event(object_type: str):
    def receive(sender, *, event: str, object_id: int, changed=(), source: str = "", **kwargs: Any) -> None:
        from .engine import event_queue

        event_queue(event, object_type, object_id, changed=changed, source=source)

    return receive


def register() -> None:
    ticket_event.connect(_ticket_event, dispatch_uid="automation-ticket-event")
    ticket_event_wanted.connect(_ticket_event_wanted, dispatch_uid="automation-ticket-event-wanted")
    for object_type, signal in (
        (LEAD, leads_contracts.automation_event),
        (QUOTE, quotes_contracts.automation_event),
        (CUSTOMER, customers_contracts.automation_event),
    ):
        signal.connect(_object_event(object_type), weak=False, dispatch_uid=f"automation-{object_type}-event")
