"""Where the fields of each kind of object come from: the owning app's facade, never its tables.

Each source gives the builder its field descriptions ({name, label, kind, choices, ai}), the values of many objects
in one call, and the most recent objects (a dry run's sample). Sources for leads, quotes and customers are
read the same way from their apps' facades."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from customers import facade as customers
from helpdesk.facade import automation as helpdesk_automation
from leads import facade as leads
from quotes import facade as quotes

from .catalog import CUSTOMER, EVENT_TIME_FIELD, LEAD, QUOTE, TICKET


@dataclass(frozen=True)
class Source:
    fields: Callable[[], list[dict[str, Any]]]
    values: Callable[..., dict[int, dict[str, Any]]]
    recent: Callable[..., list[int]]
    label: str


def _sources() -> dict[str, Source]:
    return {
        TICKET: Source(
            helpdesk_automation.ticket_automation_fields,
            helpdesk_automation.ticket_automation_values,
            helpdesk_automation.tickets_recent_ids,
            "ticket",
        ),
        LEAD: Source(leads.lead_automation_fields, leads.lead_automation_values, leads.leads_recent_ids, "lead"),
        QUOTE: Source(
            quotes.quote_automation_fields, quotes.quote_automation_values, quotes.quotes_recent_ids, "quote"
        ),
        CUSTOMER: Source(
            customers.customer_automation_fields,
            customers.customer_automation_values,
            customers.customers_recent_ids,
            "customer",
        ),
    }


_SOURCES: dict[str, Source] | None = None


def source_for(object_type: str) -> Source | None:
    global _SOURCES
    if _SOURCES is None:
        _SOURCES = _sources()
    return _SOURCES.get(object_type)


def fields_for(object_type: str) -> list[dict[str, Any]]:
    """The fields a condition on this object may test, plus the event's time (business hours)."""
    source = source_for(object_type)
    return [*(source.fields() if source else []), EVENT_TIME_FIELD]


def values_for(
    object_type: str, ids: Sequence[int], *, now: datetime | None = None, fields: Sequence[str] | None = None
) -> dict[int, dict[str, Any]]:
    """The objects' field values; only `fields` where the source can narrow its read (tickets)."""
    source = source_for(object_type)
    if source is None:
        return {}
    if fields is not None and object_type == TICKET:
        return source.values(ids, now=now, fields=fields)
    return source.values(ids, now=now)


def business_open(instant: datetime) -> bool:
    return helpdesk_automation.business_hours_open(instant)
