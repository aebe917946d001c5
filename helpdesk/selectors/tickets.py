"""Every non-trivial read of the agent workspace: the ticket list (filters, full-text search, sorts, keyset pages,
saved-view counts), one ticket with its thread, related tickets, and the choices the forms offer.

A list page costs a fixed number of queries whatever its size: one for the rows (requester, customer and
assignee joined), one COUNT that stops at COUNT_CAP, and one for the counts of every view in the rail, each
counted up to RAIL_COUNT_CAP inside a single statement. Sorts are served by indexes on (key, …, id)
(helpdesk.models.tickets), so page 200 costs what page 1 costs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from accounts.roles import roles_with
from core.day_ranges import day_range_q
from core.keyset import KeysetOrder, Page, count_up_to, paginate, rows_after
from customers.facade import Contact, contact_search

from ..models import Attachment, Category, SavedView, Team, Ticket, TicketEvent, TicketMessage
from ..models.tickets import due_sort_key, priority_rank

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The list says "10,000+" past this: counting every match of a broad search costs about as much as reading it.
COUNT_CAP = 10_000
# The rail counts many views at once on every page: "1,000+" is all a queue count needs to say.
RAIL_COUNT_CAP = 1_000
# A search counts its matches up to here ("1,000+ found"): a common word matches tens of thousands of tickets,
# and counting them all read every match (90 ms at 100k tickets) for a number nobody pages through.
SEARCH_COUNT_CAP = 1_000
# Sorted by relevance, a search ranks its newest RANK_WINDOW matches (Zendesk's search, too, returns at most 1,000
# results): ranking reads each match's whole text vector, 80 ms for a common word at 100k tickets. Sorted by any
# column, a search reaches every match.
RANK_WINDOW = 1_000
CURSOR_SALT = "helpdesk.ticket_list"
# "Breaching soon": the nearest SLA due is at most this far away (or already past).
BREACHING_WINDOW = timedelta(hours=2)
RELATED_LIMIT = 6
USER_FIELDS_UNSHOWN = ("password", "last_login", "date_joined")

# Status filter values besides the statuses themselves.
UNSOLVED = "unsolved"
DONE = "done"
STATUS_GROUPS = {UNSOLVED: Ticket.OPEN_STATUSES, DONE: Ticket.DONE_STATUSES}
# The clock runs only while the ticket waits on us: pending / on hold tickets are not "breaching".
CLOCK_RUNNING = (Ticket.Status.NEW, Ticket.Status.OPEN)

# Sort choices people see → the keys a page is ordered and sought by (the last one unique).
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "created": ("created", "id"),
    "updated": ("updated", "id"),
    "priority": ("priority_rank", "created", "id"),
    "due": ("due_key", "id"),
    "relevance": ("rank", "id"),  # only while searching
}
DEFAULT_SORT = "-created"
SEARCH_SORT = "-relevance"
WORD = re.compile(r"[^\W_]+")
NUMBER = re.compile(r"#?(\d{1,9})")


@dataclass(frozen=True)
class TicketFilters:
    q: str = ""
    status: str = ""  # a Ticket.Status, UNSOLVED or DONE
    priority: str = ""
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    no_team: bool = False
    category_id: int | None = None
    channel: str = ""
    tag: str = ""
    customer_id: int | None = None
    requester_id: int | None = None
    breaching: bool = False
    # What a dashboard's figure counts (insights' rollups of ticket_rollup_facts), so its drill-down link lists the
    # same tickets: days in settings.TIME_ZONE, both ends inclusive.
    created_from: date | None = None
    created_to: date | None = None
    solved_from: date | None = None  # solved or closed, by solved_at
    solved_to: date | None = None
    responded_from: date | None = None  # first response
    responded_to: date | None = None
    csat_from: date | None = None  # satisfaction answer
    csat_to: date | None = None
    csat_answered: bool = False
    rating: int | None = None  # 1-5, answered
    tier: str = ""  # the company's tier
    no_tier: bool = False  # no company
    sla_breached: bool = False  # tracked by an SLA policy and breached

    @property
    def active(self) -> bool:
        return any(dataclasses.astuple(self))

    @property
    def drilled(self) -> bool:
        """Filters a live row cannot be matched against in the browser (static/js/helpdesk.js): new tickets are not
        inserted into such a list, only announced."""
        return any(getattr(self, field.name) for field in dataclasses.fields(self) if field.name in DRILL_FIELDS)


@dataclass(frozen=True)
class Due:
    """The nearest SLA due of a ticket as a list row shows it: when, how it stands, and in words."""

    at: datetime | None
    state: str  # "breached", "soon", "ok", "paused" or "" (no SLA clock)
    text: str


@dataclass(frozen=True)
class Choice:
    """An agent, team or category as a menu offers it."""

    pk: int
    name: str


@dataclass(frozen=True)
class FilterOptions:
    agents: list[Choice]
    teams: list[Choice]
    categories: list[Choice]
    tags: list[str]


@dataclass(frozen=True)
class ThreadEntry:
    """One line of a ticket's thread: a message (reply or note) or a history event, in time order."""

    kind: str  # "message" or "event"
    created: datetime
    item: TicketMessage | TicketEvent


DRILL_FIELDS = frozenset(
    {"created_from", "created_to", "solved_from", "solved_to", "responded_from", "responded_to", "csat_from",
     "csat_to", "csat_answered", "rating", "tier", "no_tier", "sla_breached"}
)  # fmt: skip


# --- List ---------------------------------------------------------------------------------------


def ticket_list(
    *,
    filters: TicketFilters | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    now: datetime | None = None,
) -> Page[Ticket]:
    """One page of tickets and how many match, up to COUNT_CAP: 3 queries.

    Two steps: the page's ids from the ticket table alone (an index walk, or the search index), then those rows
    with requester, customer and assignee. In one query PostgreSQL would plan the joins from its guess of how many
    tickets match, and a search guessed small ran as one full-text scan per customer (seconds at 100k).
    """
    filters = filters or TicketFilters()
    now = now or timezone.now()
    query = search_query(filters.q)
    matches = _matching(filters, now=now, query=query)
    order = ticket_order(sort, searching=query is not None)
    ranked = matches
    if "rank" in order.keys:
        ranked = Ticket.objects.filter(pk__in=matches.order_by("-created", "-id").values("pk")[:RANK_WINDOW])
    page = paginate(
        _sort_keys(ranked, keys=order.keys, query=query),
        order=order,
        cursor=cursor,
        page_size=_clamp(page_size),
        salt=CURSOR_SALT,
    )
    rows = {ticket.pk: ticket for ticket in _displayed(Ticket.objects.filter(pk__in=[t.pk for t in page.items]))}
    items = [rows[ticket.pk] for ticket in page.items if ticket.pk in rows] if page.items else []
    _attach_due(items, now=now)
    total, capped = count_up_to(matches, COUNT_CAP if query is None else SEARCH_COUNT_CAP)
    return dataclasses.replace(page, items=items, total=total, total_capped=capped)


def ticket_order(sort: str | None, *, searching: bool = False) -> KeysetOrder:
    field, descending = parse_sort(sort, searching=searching)
    return KeysetOrder(keys=SORT_KEYS[field], descending=descending)


def parse_sort(sort: str | None, *, searching: bool = False) -> tuple[str, bool]:
    """ "-created" → ("created", True). Unknown (or relevance when not searching) → the default for the list."""
    sort = (sort or "").strip()
    field = sort.lstrip("-")
    if field not in SORT_KEYS or (field == "relevance" and not searching):
        sort = SEARCH_SORT if searching else DEFAULT_SORT
        field = sort.lstrip("-")
    return field, sort.startswith("-")


def search_query(text: str) -> SearchQuery | None:
    """Every word must match (English stemming); the last one may be the start of a word, as people type."""
    words = WORD.findall((text or "").lower())[:12]
    if not words:
        return None
    terms = [*words[:-1], f"{words[-1]}:*"]
    return SearchQuery(" & ".join(terms), search_type="raw", config="english")


def ticket_counts(filter_sets: Sequence[TicketFilters], *, cap: int = RAIL_COUNT_CAP) -> list[tuple[int, bool]]:
    """How many tickets each filter set matches, each counted up to `cap`, in one query: [(count, capped), …]."""
    if not filter_sets:
        return []
    now = timezone.now()
    parts, params = [], []
    for index, filters in enumerate(filter_sets):
        matches = _matching(filters, now=now, query=search_query(filters.q))
        sql, sql_params = matches.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS view_{index})")
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return [(min(found, cap), found > cap) for found in row]


def ticket_row(*, ticket_id: int) -> Ticket:
    """A ticket as one list row shows it, for live updates. Raises Ticket.DoesNotExist."""
    ticket = _displayed(Ticket.objects.filter(pk=ticket_id)).get()
    _attach_due([ticket], now=timezone.now())
    return ticket


def tickets_for_bulk(*, ticket_ids: Iterable[int]) -> list[Ticket]:
    """The chosen tickets in the order they were chosen (the first is the merge target); unknown ids are left out."""
    ids = list(dict.fromkeys(ticket_ids))
    found = {ticket.pk: ticket for ticket in Ticket.objects.filter(pk__in=ids).defer("search_vector")}
    return [found[pk] for pk in ids if pk in found]


def _matching(filters: TicketFilters, *, now: datetime, query: SearchQuery | None) -> QuerySet[Ticket]:
    queryset = Ticket.objects.all()
    if query is not None:
        number = NUMBER.fullmatch(filters.q.strip())
        by_text = Q(search_vector=query)
        queryset = queryset.filter(by_text | Q(pk=int(number.group(1))) if number else by_text)
    if filters.status in STATUS_GROUPS:
        queryset = queryset.filter(status__in=STATUS_GROUPS[filters.status])
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.priority:
        queryset = queryset.filter(priority=filters.priority)
    if filters.unassigned:
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee_id is not None:
        queryset = queryset.filter(assignee_id=filters.assignee_id)
    if filters.no_team:
        queryset = queryset.filter(team__isnull=True)
    elif filters.team_id is not None:
        queryset = queryset.filter(team_id=filters.team_id)
    if filters.category_id is not None:
        queryset = queryset.filter(category_id=filters.category_id)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.tag:
        queryset = queryset.filter(tags__contains=[filters.tag])
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    if filters.requester_id is not None:
        queryset = queryset.filter(requester_id=filters.requester_id)
    if filters.breaching:
        soon = Q(sla_due_at__lte=now + BREACHING_WINDOW) | Q(sla_breached=True)
        queryset = queryset.filter(soon, status__in=CLOCK_RUNNING)
    if filters.drilled:
        queryset = queryset.filter(_drill_q(filters))
    return queryset


def _drill_q(filters: TicketFilters) -> Q:
    """The dashboard's filters, each decided as helpdesk.facade.ticket_rollup_facts and insights' rollups decide it
    (a figure and its list must agree): solved means solved or closed with a solved time, a breach counts only on a
    ticket an SLA policy tracks, a CSAT answer has both a rating and a time. Dates are ranges on indexed timestamps
    (migration 0015)."""
    condition = day_range_q("created", filters.created_from, filters.created_to)
    if filters.solved_from or filters.solved_to:
        condition &= Q(status__in=Ticket.DONE_STATUSES, solved_at__isnull=False)
        condition &= day_range_q("solved_at", filters.solved_from, filters.solved_to)
    if filters.responded_from or filters.responded_to:
        condition &= Q(first_responded_at__isnull=False)
        condition &= day_range_q("first_responded_at", filters.responded_from, filters.responded_to)
    if filters.csat_answered or filters.rating is not None or filters.csat_from or filters.csat_to:
        condition &= Q(survey__rating__isnull=False, survey__answered_at__isnull=False)
        condition &= day_range_q("survey__answered_at", filters.csat_from, filters.csat_to)
    if filters.rating is not None:
        condition &= Q(survey__rating=filters.rating)
    if filters.no_tier:
        condition &= Q(customer__isnull=True)
    elif filters.tier:
        condition &= Q(customer__tier=filters.tier)
    if filters.sla_breached:
        condition &= Q(sla_policy__isnull=False, sla_breached=True)
    return condition


def _sort_keys(queryset: QuerySet[Ticket], *, keys: Iterable[str], query: SearchQuery | None) -> QuerySet[Ticket]:
    """Only the id and the sort keys (columns or named expressions): what a keyset page is sought by."""
    expressions = {
        "priority_rank": priority_rank,
        "due_key": due_sort_key,
        "rank": lambda: SearchRank(F("search_vector"), query),
    }
    annotations = {key: expressions[key]() for key in keys if key in expressions}
    columns = [key for key in keys if key not in expressions]
    return queryset.only(*columns).annotate(**annotations)


def _displayed(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """`queryset` as list rows show it: requester, customer and assignee joined, long texts left out."""
    return queryset.select_related("requester", "customer", "assignee").defer(
        "search_vector",
        "original_description",
        "improved_description",
        "ai_suggestions",
        "customer__search_text",
        *(f"assignee__{field}" for field in USER_FIELDS_UNSHOWN),
    )


def _attach_due(tickets: Iterable[Ticket], *, now: datetime) -> None:
    """The row's due and "updated … ago", worked out here: Django's naturaltime filter costs more than the row."""
    for ticket in tickets:
        ticket.due = ticket_due(ticket, now=now)
        ticket.updated_ago = (
            "just now" if now - ticket.updated < timedelta(minutes=1) else f"{duration_words(now - ticket.updated)} ago"
        )


def ticket_due(ticket: Ticket, *, now: datetime | None = None) -> Due:
    """The nearest SLA due in words: "in 1 h 20 min", "3 h overdue", "paused"."""
    now = now or timezone.now()
    at = ticket.sla_due_at
    if ticket.status in Ticket.DONE_STATUSES or (at is None and not ticket.sla_breached):
        return Due(at=None, state="", text="")
    if ticket.status in Ticket.PAUSED_STATUSES:
        return Due(at=at, state="paused", text="paused")
    if at is None or at <= now:
        late = f"{duration_words(now - at)} overdue" if at is not None else "breached"
        return Due(at=at, state="breached", text=late)
    left = at - now
    return Due(at=at, state="soon" if left <= BREACHING_WINDOW else "ok", text=f"in {duration_words(left)}")


def duration_words(delta: timedelta) -> str:
    """Two units at most, the way a queue reads: "45 min", "3 h 20 min", "2 d 4 h"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


# --- Saved views and filter choices -------------------------------------------------------------


def saved_view_list(*, user) -> list[SavedView]:
    """The views this person sees: their own and the shared ones."""
    return list(SavedView.objects.filter(Q(owner=user) | Q(shared=True)).order_by("position", "name", "id"))


def saved_view_get(*, view_id: int) -> SavedView:
    """Raises SavedView.DoesNotExist."""
    return SavedView.objects.get(pk=view_id)


def assignable_agents() -> QuerySet:
    """Who can take tickets: active teammates whose role works the queue."""
    return (
        get_user_model().objects.filter(is_active=True, role__in=roles_with("tickets.edit")).order_by("name", "email")
    )


TAGS_CACHE_KEY = "helpdesk:ticket-tags"
TAGS_CACHE_SECONDS = 300
TAGS_SAMPLE = 5_000


def ticket_filter_options() -> FilterOptions:
    """Choices for the list's filter menus, bulk actions and the ticket header: agents, teams and categories (one
    query), and tags in use.

    Tags are the most used among the newest TAGS_SAMPLE tickets, cached per workspace for a few minutes (the cache
    key function adds the schema): the tag box accepts any tag, the menu only suggests.
    """
    tags = cache.get(TAGS_CACHE_KEY)
    if tags is None:
        tags = ticket_popular_tags()
        cache.set(TAGS_CACHE_KEY, tags, TAGS_CACHE_SECONDS)
    choices: dict[str, list[Choice]] = {"agent": [], "team": [], "category": []}
    for kind, pk, name in _menu_rows():
        choices[kind].append(Choice(pk=pk, name=name))
    return FilterOptions(agents=choices["agent"], teams=choices["team"], categories=choices["category"], tags=tags)


def _menu_rows() -> QuerySet:
    """(kind, id, name) of every assignable agent, team and category, by name: three small tables, one query."""

    def rows(queryset: QuerySet, kind: str, label) -> QuerySet:
        return queryset.order_by().annotate(kind=Value(kind), label=label).values_list("kind", "id", "label")

    agents = rows(assignable_agents(), "agent", Coalesce(NullIf("name", Value("")), "email", output_field=CharField()))
    teams = rows(Team.objects.all(), "team", F("name"))
    categories = rows(Category.objects.all(), "category", F("name"))
    return agents.union(teams, categories, all=True).order_by("kind", "label", "id")


def ticket_popular_tags(limit: int = 50) -> list[str]:
    """Raw SQL: the ORM cannot GROUP BY the elements of an unnested array."""
    table = Ticket._meta.db_table
    sql = (
        f"SELECT tag FROM (SELECT tags FROM {table} ORDER BY created DESC LIMIT %s) AS recent, unnest(tags) AS tag "
        "GROUP BY tag ORDER BY count(*) DESC, tag LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [TAGS_SAMPLE, limit])
        return [row[0] for row in cursor.fetchall()]


def requester_suggestions(*, text: str, limit: int = 8) -> list[Contact]:
    """Contacts whose name or email address contains `text`, for the new-ticket form's requester box."""
    return contact_search(text=text, limit=limit)


# --- One ticket ---------------------------------------------------------------------------------


def ticket_get(*, ticket_id: int) -> Ticket:
    """The ticket with everything its header and sidebar show. Raises Ticket.DoesNotExist."""
    return (
        Ticket.objects.select_related("requester", "customer", "assignee", "team", "category", "merged_into")
        .defer("search_vector", *(f"assignee__{field}" for field in USER_FIELDS_UNSHOWN))
        .get(pk=ticket_id)
    )


def ticket_thread(*, ticket: Ticket) -> list[ThreadEntry]:
    """Messages (with authors and attachments) and history events, oldest first: 3 queries."""
    messages = (
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author", "author_contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created", "id")
    )
    # The messages themselves stand for these events.
    told_by_messages = (TicketEvent.Kind.REPLIED, TicketEvent.Kind.NOTED, TicketEvent.Kind.CUSTOMER_REPLIED)
    events = (
        TicketEvent.objects.filter(ticket=ticket)
        .exclude(kind__in=told_by_messages)
        .select_related("actor")
        .order_by("created", "id")
    )
    entries = [ThreadEntry("message", message.created, message) for message in messages]
    entries += [ThreadEntry("event", event.created, event) for event in events]
    # Stable: a reply and the event it caused share a timestamp; the message comes first.
    return sorted(entries, key=lambda entry: entry.created)


def ticket_messages(*, ticket: Ticket) -> QuerySet[TicketMessage]:
    """The ticket's messages with authors and attachments, unordered and unpaged (the API pages them by
    created, id): 2 queries a page."""
    return (
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author", "author_contact")
        .defer(*(f"author__{field}" for field in USER_FIELDS_UNSHOWN))
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )


def message_get(*, message_id: int) -> TicketMessage:
    """One thread entry as the thread shows it (for live pushes). Raises TicketMessage.DoesNotExist."""
    return (
        TicketMessage.objects.select_related("author", "author_contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .get(pk=message_id)
    )


def ticket_related(*, ticket: Ticket, limit: int = RELATED_LIMIT) -> list[Ticket]:
    """The requester's and their company's other tickets, newest first."""
    return list(
        Ticket.objects.filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .select_related("requester")
        .only("id", "subject", "status", "priority", "created", "requester_id", "requester__name", "customer_id")
        .order_by("-created", "-id")[:limit]
    )


def attachment_get(*, attachment_id: int) -> Attachment:
    """Raises Attachment.DoesNotExist."""
    return Attachment.objects.select_related("message").get(pk=attachment_id)


def _clamp(page_size: int) -> int:
    return max(1, min(int(page_size), MAX_PAGE_SIZE))


# --- Send and next ------------------------------------------------------------------------------


def ticket_next(*, after: Ticket, user, filters: TicketFilters | None = None, sort: str | None = None) -> Ticket | None:
    """The ticket to work on after `after`: the next open ticket assigned to `user` or unassigned, among those the
    agent's list shows (`filters`), in the list's order; past the end, the first one. None when nothing is left.

    "Open" means waiting on us (new or open): a pending or on-hold ticket waits on someone else, so it is skipped.
    """
    filters = filters or TicketFilters()
    query = search_query(filters.q)
    order = ticket_order(sort, searching=query is not None)
    mine = Q(assignee__isnull=True) | Q(assignee_id=user.pk)
    candidates = _sort_keys(
        _matching(filters, now=timezone.now(), query=query).filter(mine, status__in=CLOCK_RUNNING).exclude(pk=after.pk),
        keys=order.keys,
        query=query,
    ).order_by(*order.order_by())
    here = _sort_keys(Ticket.objects.filter(pk=after.pk), keys=order.keys, query=query).first()
    if here is not None:
        following = candidates.filter(rows_after(order, [getattr(here, key) for key in order.keys])).first()
        if following is not None:
            return following
    return candidates.first()


@dataclass(frozen=True)
class ReplyRoute:
    """How a public reply on a ticket reaches the customer, as the composer says it."""

    channel: str  # "email", "sms" or "chat"
    text: str
    # Email replies have To/CC/BCC to choose; a chat or an SMS goes to the one person on the other end.
    addresses: bool


def reply_route(ticket: Ticket) -> ReplyRoute:
    """Chat and SMS tickets are answered on their channel (the inbox routes by OutgoingMessage.channel); every
    other ticket by email."""
    requester = ticket.requester
    if ticket.channel == Ticket.Channel.CHAT:
        return ReplyRoute("chat", "Reply in chat", addresses=False)
    if ticket.channel == Ticket.Channel.SMS:
        return ReplyRoute("sms", f"Reply by SMS to {requester.phone or 'the customer'}", addresses=False)
    to = f"{requester.name} <{requester.email}>" if requester.email else requester.name
    return ReplyRoute("email", f"Reply by email to {to}", addresses=True)
