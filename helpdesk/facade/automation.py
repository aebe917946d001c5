"""What the automation app reads of tickets and asks of the ticket AI: the fields its conditions test (described
once for the rule builder, read in one query for many tickets), the candidates of a time rule (an indexed range
over one timestamp, never a scan), business hours, and the AI actions whose results land on the ticket for an
agent to review (a reply draft, an internal note). Changes to tickets go through `ticket_actions_apply`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from ..business_hours import calendar_compiled
from ..models import Category, Team, Ticket
from ..selectors.tickets import _menu_rows

# Anchors of time rules: the timestamp a timer runs from, and the filter that says the anchor means something.
TIMER_ANCHORS: dict[str, tuple[str, str]] = {
    "created": ("created", "Created"),
    "updated": ("updated", "Last changed"),
    "solved": ("solved_at", "Solved"),
    "customer_waiting": ("last_customer_message_at", "Customer's last message, unanswered"),
}
# Fields a time rule's query may filter on in SQL (the rest of its conditions are tested in memory).
TIMER_FILTERS = frozenset({"status", "priority", "type", "channel", "assignee", "team"})
SENTIMENTS = (("positive", "Positive"), ("neutral", "Neutral"), ("negative", "Negative"))


def ticket_automation_fields() -> list[dict[str, Any]]:
    """The ticket fields a rule condition can test: {name, label, kind, choices, ai}. `kind` is one of "choice",
    "user", "team", "tags", "text", "number", "bool"; `choices` is [(value, label), …] for choice, user, team."""
    menus: dict[str, list[tuple[str, str]]] = {"agent": [], "team": [], "category": []}
    for kind, pk, name in _menu_rows():
        menus[kind].append((str(pk), name))

    def field(name: str, label: str, kind: str, choices=(), ai: bool = False) -> dict[str, Any]:
        return {"name": name, "label": label, "kind": kind, "choices": [tuple(c) for c in choices], "ai": ai}

    return [
        field("status", "Status", "choice", Ticket.Status.choices),
        field("priority", "Priority", "choice", Ticket.Priority.choices),
        field("type", "Type", "choice", Ticket.Type.choices),
        field("channel", "Channel", "choice", Ticket.Channel.choices),
        field("category", "Category", "choice", menus["category"]),
        field("assignee", "Assignee", "user", menus["agent"]),
        field("team", "Team", "team", menus["team"]),
        field("tags", "Tags", "tags"),
        field("subject", "Subject", "text"),
        field("description", "Description", "text"),
        field("requester_email", "Requester's email", "text"),
        field("customer_tier", "Customer tier", "choice", _customer_tiers()),
        field("sla_breached", "SLA breached", "bool"),
        field("hours_open", "Hours since created", "number"),
        field("csat_rating", "CSAT rating (1–5)", "number"),
        field("ai_category", "AI: category", "choice", menus["category"], ai=True),
        field("sentiment", "AI: sentiment", "choice", SENTIMENTS, ai=True),
        field("language", "AI: language (e.g. en, de)", "text", ai=True),
        field("breach_risk", "AI: SLA risk (%)", "number", ai=True),
    ]


def _customer_tiers() -> list[tuple[str, str]]:
    field = Ticket._meta.get_field("customer").related_model._meta.get_field("tier")
    return [(str(value), str(label)) for value, label in field.choices]


def _risk(value: Any) -> float | None:
    return None if value is None else round(value * 100, 1)


# Field → (the column it is read from, how the value is made comparable). A rule set reads only what it tests.
_READS: dict[str, tuple[str, Any]] = {
    "status": ("status", str),
    "priority": ("priority", str),
    "type": ("type", str),
    "channel": ("channel", str),
    "category": ("category_id", lambda v: _id(v)),
    "assignee": ("assignee_id", lambda v: _id(v)),
    "team": ("team_id", lambda v: _id(v)),
    "tags": ("tags", lambda v: list(v or ())),
    "subject": ("subject", str),
    "description": ("original_description", str),
    "requester_email": ("requester__email", lambda v: v or ""),
    "customer_tier": ("customer__tier", lambda v: v or ""),
    "sla_breached": ("sla_breached", bool),
    "hours_open": ("created", None),  # relative to `now`, below
    "csat_rating": ("survey__rating", lambda v: v),
    "ai_category": ("ai_suggestions__suggestions__category__value", lambda v: _id(v)),  # not the whole document
    "sentiment": ("sentiment", str),
    "language": ("language", str),
    "breach_risk": ("breach_risk", _risk),
}


def ticket_automation_values(
    ticket_ids: Sequence[int], *, now: datetime | None = None, fields: Sequence[str] | None = None
) -> dict[int, dict[str, Any]]:
    """{ticket id: {field name: value}} for `ticket_automation_fields` (only `fields` when given: fewer columns and
    joins), one query for all of them. Ids are strings ("" when empty) for category, assignee and team, so they
    compare with a rule's stored choice."""
    now = now or timezone.now()
    names = [name for name in (_READS if fields is None else fields) if name in _READS]
    columns = ["id", *dict.fromkeys(_READS[name][0] for name in names)]
    rows = Ticket.objects.filter(pk__in=list(ticket_ids)).values_list(*columns)
    found = {}
    for row in rows:
        raw = dict(zip(columns, row, strict=True))
        record = {}
        for name in names:
            column, convert = _READS[name]
            value = raw[column]
            if convert is None:
                record[name] = round((now - value).total_seconds() / 3600, 2)
            else:
                record[name] = convert(value)
        found[raw["id"]] = record
    return found


def _id(value: Any) -> str:
    return "" if value in (None, "") else str(value)


def tickets_recent_ids(*, limit: int = 50) -> list[int]:
    """The most recently changed tickets, newest first (a dry run's sample). One indexed query."""
    return list(Ticket.objects.order_by("-updated", "-id").values_list("id", flat=True)[: max(1, int(limit))])


def ticket_timer_candidates(
    *, anchor: str, threshold: datetime, after: datetime | None, filters: Mapping[str, Any], limit: int
) -> list[tuple[int, datetime]]:
    """[(ticket id, anchor time)] of tickets whose `anchor` lies in (after, threshold], oldest anchor first, at most
    `limit`: one range over the anchor's index, narrowed by the simple equality `filters` (status, priority, type,
    channel, assignee, team; "" means none) in SQL. A "customer_waiting" anchor only counts while no agent has
    answered since. Merged tickets are skipped."""
    column, _label = TIMER_ANCHORS[anchor]
    query = Ticket.objects.filter(**{f"{column}__lte": threshold, "merged_into__isnull": True})
    if after is not None:
        query = query.filter(**{f"{column}__gt": after})
    if anchor == "customer_waiting":  # the partial index ticket_customer_waiting covers open tickets only
        query = query.filter(status__in=Ticket.OPEN_STATUSES).filter(
            Q(last_agent_message_at__isnull=True) | Q(last_agent_message_at__lt=F(column))
        )
    for name, value in filters.items():
        if name not in TIMER_FILTERS:
            continue
        if name in ("assignee", "team"):
            query = query.filter(**({f"{name}__isnull": True} if value in ("", None) else {f"{name}_id": int(value)}))
        elif isinstance(value, list | tuple):
            query = query.filter(**{f"{name}__in": list(value)})
        else:
            query = query.filter(**{name: value})
    return list(query.order_by(column, "id").values_list("id", column)[:limit])


def business_hours_open(instant: datetime) -> bool:
    """Whether the workspace's default business calendar is open at `instant`."""
    return _default_calendar().is_open(instant)


def business_hours_ago(*, hours: float, now: datetime | None = None) -> datetime:
    """The instant `hours` business hours before `now`, on the workspace's default calendar."""
    return _default_calendar().add(now or timezone.now(), -hours * 60)


def _default_calendar():
    from ..services.sla.calendars import business_calendar_default

    return calendar_compiled(business_calendar_default())


def ticket_text(ticket_id: int) -> str:
    """Subject and description of a ticket (what the AI actions summarise, translate or improve); "" if gone."""
    row = Ticket.objects.filter(pk=ticket_id).values_list("subject", "original_description").first()
    return "" if row is None else f"{row[0]}\n\n{row[1]}"


def ticket_reply_draft(*, ticket_id: int, actor: Any = None) -> str | None:
    """Drafts a reply for an agent to review (kept as a TicketDraft on the ticket, never sent); its text, or None
    when nothing matched well enough to draft from."""
    from ..services.ticket_ai.auto_response import reply_draft_request

    ticket = Ticket.objects.select_related("requester", "customer").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    draft = reply_draft_request(ticket, actor=actor)
    return None if draft is None else draft.text


def ticket_classify(*, ticket_id: int) -> dict[str, Any]:
    """Runs the ticket AI's analysis now (category, priority, type, sentiment, language, SLA risk): its
    suggestions appear in the ticket's AI panel for the agent. {kind: suggested value}."""
    from ..services.ticket_ai.analysis import ticket_analyze

    document = ticket_analyze(ticket_id) or {}
    return {kind: (entry or {}).get("value") for kind, entry in (document.get("suggestions") or {}).items()}


def ticket_team_names() -> dict[int, str]:
    return dict(Team.objects.values_list("id", "name"))


def ticket_category_names() -> dict[int, str]:
    return dict(Category.objects.values_list("id", "name"))


def timer_anchor_choices() -> list[tuple[str, str]]:
    return [(key, label) for key, (_column, label) in TIMER_ANCHORS.items()]


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(hours=1)


def team_people(team_id: int) -> tuple[int | None, list[int]]:
    """(the lead's user id, the active members' ids) of a team, for a rule's "notify the team" action."""
    team = Team.objects.filter(pk=team_id).only("lead_id").first()
    if team is None:
        return None, []
    members = list(team.members.filter(is_active=True).order_by("id").values_list("id", flat=True))
    return team.lead_id, members
