"""What rules are made of: the triggers (events other apps send, and time), the object each trigger is about,
the operators of each kind of field, and the timer units. Fields themselves come from the owning apps' facades
(automation/sources.py)."""

from __future__ import annotations

from dataclasses import dataclass

TICKET, LEAD, QUOTE, CUSTOMER = "ticket", "lead", "quote", "customer"
TIME_TRIGGER = "ticket.time"


@dataclass(frozen=True)
class Trigger:
    key: str
    label: str
    object_type: str
    time: bool = False


TRIGGERS: tuple[Trigger, ...] = (
    Trigger("ticket.created", "Ticket created", TICKET),
    Trigger("ticket.updated", "Ticket updated", TICKET),
    Trigger("message.created", "Customer or agent message received", TICKET),
    Trigger("sla.warning", "SLA warning (near breach)", TICKET),
    Trigger("sla.breached", "SLA breached", TICKET),
    Trigger("csat.received", "CSAT answer received", TICKET),
    Trigger(TIME_TRIGGER, "Time passed (checked every few minutes)", TICKET, time=True),
    Trigger("lead.stage_changed", "Lead moved to another stage", LEAD),
    Trigger("quote.sent", "Quote sent", QUOTE),
    Trigger("quote.accepted", "Quote accepted", QUOTE),
    Trigger("quote.declined", "Quote declined", QUOTE),
    Trigger("customer.health_dropped", "Customer health dropped", CUSTOMER),
)
TRIGGERS_BY_KEY = {trigger.key: trigger for trigger in TRIGGERS}
# The helpdesk sends "ticket.solved" instead of "ticket.updated" when a ticket is solved: rules see an update.
EVENT_ALIASES = {"ticket.solved": "ticket.updated"}

# Operators per field kind, in menu order: (key, label, takes a value).
OPERATORS: dict[str, tuple[tuple[str, str, bool], ...]] = {}
_EQUALITY = (("is", "is", True), ("is_not", "is not", True))
_CHANGE = (("changed", "changed", False), ("changed_to", "changed to", True))
_EMPTY = (("is_empty", "is empty", False), ("is_set", "is set", False))
OPERATORS["choice"] = _EQUALITY + _EMPTY + _CHANGE
OPERATORS["user"] = _EQUALITY + _EMPTY + _CHANGE
OPERATORS["team"] = OPERATORS["user"]
OPERATORS["text"] = (
    ("contains", "contains", True),
    ("not_contains", "does not contain", True),
    *_EQUALITY,
    *_EMPTY,
    *_CHANGE,
)
OPERATORS["tags"] = (("contains", "includes", True), ("not_contains", "does not include", True), *_EMPTY, _CHANGE[0])
OPERATORS["number"] = (
    ("gt", "greater than", True),
    ("lt", "less than", True),
    *_EQUALITY,
    *_EMPTY,
    *_CHANGE,
)
OPERATORS["bool"] = (("is_true", "is yes", False), ("is_false", "is no", False), _CHANGE[0])
OPERATORS["time"] = (
    ("within_business_hours", "within business hours", False),
    ("outside_business_hours", "outside business hours", False),
)
OPERATORS_TAKING_VALUE = {key for ops in OPERATORS.values() for key, _label, takes in ops if takes}

# The moment the event happened: "within/outside business hours" of the workspace's default calendar.
EVENT_TIME_FIELD = {"name": "event_time", "label": "When it happens", "kind": "time", "choices": [], "ai": False}

TIMER_UNITS = (
    ("minutes", "minutes"),
    ("hours", "hours"),
    ("days", "days"),
    ("business_hours", "business hours"),
)

# Where each kind of object is shown (its detail page's URL name), for links in notices and dry runs.
DETAIL_URLS = {
    TICKET: "tickets:ticket_detail",
    LEAD: "leads:lead_detail",
    QUOTE: "quotes:quote_detail",
    CUSTOMER: "customers:customer_detail",
}
