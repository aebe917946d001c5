"""The company and contact timeline: one stream merged from every app that registered a provider.

Why a registry filled from `AppConfig.ready` rather than a settings list of dotted facade functions: the apps
that contribute (helpdesk today, leads and quotes later) already depend on customers, so they register into it
through `customers.facade` and the dependency keeps pointing one way. A settings list would make customers call
into helpdesk by name at run time, an import the import-linter contracts cannot see; tests can also register a
fake provider for one test without touching settings.

Pages are keyset pages across providers: each provider is asked for `limit + 1` entries older than the cursor
(newest first, ties broken by source app, kind and row id), the sorted lists are merged k-way and cut at
`limit`; the last entry shown becomes the next cursor. Nothing loads a company's whole history, and a page
costs one query per kind whatever the page number.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.urls import reverse

from .contracts import TimelineEntry, TimelineKind, TimelinePosition, TimelineProvider, TimelineQuery
from .models import Note, Task

CURSOR_SALT = "customers.timeline"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

_providers: dict[str, TimelineProvider] = {}


def provider_register(provider: TimelineProvider) -> None:
    """Adds (or replaces, on a reload) an app's provider."""
    _providers[provider.source_app] = provider


def provider_unregister(source_app: str) -> None:
    _providers.pop(source_app, None)


def providers() -> list[TimelineProvider]:
    return [_providers[name] for name in sorted(_providers)]


def timeline_kinds() -> list[TimelineKind]:
    """Every activity type some app contributes, in registration order within each app (the filter chips)."""
    return [kind for provider in providers() for kind in provider.kinds]


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def cursor_encode(entry: TimelineEntry) -> str:
    payload = [entry.at.isoformat(), entry.source_app, entry.kind, entry.id]
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def cursor_decode(cursor: str | None) -> TimelinePosition | None:
    """A tampered, garbled or empty cursor means "from the newest", like the lists' cursors (core.keyset)."""
    if not cursor:
        return None
    try:
        at, source_app, kind, row_id = signing.loads(cursor, salt=CURSOR_SALT)
        return TimelinePosition(
            at=datetime.fromisoformat(at), source_app=str(source_app), kind=str(kind), id=int(row_id)
        )
    except (signing.BadSignature, TypeError, ValueError):
        return None


def _timeline(
    *,
    customer_id: int | None,
    contact_id: int | None,
    kinds: frozenset[str] | set[str] | list[str] | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> TimelinePage:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    known = {kind.name for kind in timeline_kinds()}
    wanted = frozenset(kinds) & known if kinds else frozenset(known)
    query = TimelineQuery(
        customer_id=customer_id,
        contact_id=contact_id,
        kinds=wanted,
        limit=limit + 1,
        since=since,
        until=until,
        after=cursor_decode(cursor),
    )
    streams = [provider.entries(query) for provider in providers() if wanted & {kind.name for kind in provider.kinds}]
    merged = list(heapq.merge(*streams, key=lambda entry: entry.sort_key, reverse=True))[: limit + 1]
    entries = merged[:limit]
    next_cursor = cursor_encode(entries[-1]) if len(merged) > limit else None
    return TimelinePage(entries=entries, next_cursor=next_cursor)


def customer_timeline(
    *,
    customer_id: int,
    kinds=None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> TimelinePage:
    """One page of everything that happened at a company (its people's activity included), newest first."""
    return _timeline(
        customer_id=customer_id, contact_id=None, kinds=kinds, since=since, until=until, cursor=cursor, limit=limit
    )


def contact_timeline(
    *,
    contact_id: int,
    kinds=None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> TimelinePage:
    """One page of what happened with one person, newest first."""
    return _timeline(
        customer_id=None, contact_id=contact_id, kinds=kinds, since=since, until=until, cursor=cursor, limit=limit
    )


# --- Customers' own entries: notes and tasks ----------------------------------------------------------

SOURCE = "customers"
KINDS = (
    TimelineKind("note", "Notes", "sticky"),
    TimelineKind("task", "Tasks", "check2-square"),
    TimelineKind("task_done", "Tasks done", "check2-circle"),
)


def _subject_filter(query: TimelineQuery) -> dict[str, int]:
    return {"contact_id": query.contact_id} if query.contact_id is not None else {"customer_id": query.customer_id}


class _PageUrls:
    """Company and contact page paths with a `{}` for the id: two reverse() calls a page, not one per entry."""

    def __init__(self) -> None:
        self.customer = reverse("customers:customer_detail", args=[987654321]).replace("987654321", "{}")
        self.contact = reverse("customers:contact_detail", args=[987654321]).replace("987654321", "{}")

    def of(self, row: dict) -> str:
        return self.contact.format(row["contact_id"]) if row["contact_id"] else self.customer.format(row["customer_id"])


_MARKUP = re.compile(r"[*_`#>~]+|!?\[([^\]]*)\]\([^)]*\)")
SUMMARY_CHARS = 280


def _plain(markdown: str) -> str:
    """A note's first words without Markdown marks, for the timeline. Not core.markdown's full render: parsing
    and sanitising every note of every page cost more than the page's queries."""
    text = " ".join(_MARKUP.sub(lambda match: match.group(1) or "", markdown).split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _name(name: str | None, email: str | None) -> str:
    return name or email or ""


NOTE_FIELDS = ("id", "customer_id", "contact_id", "body", "pinned", "created", "contact__name", "author__name")
TASK_FIELDS = (
    "id", "customer_id", "contact_id", "title", "due_at", "done", "done_at", "created", "contact__name",
    "owner__name", "owner__email", "created_by__name", "created_by__email",
)  # fmt: skip


def _own_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """Values, not model instances, and paths formatted rather than reversed: a page builds 75 entries here."""
    subject = _subject_filter(query)
    urls = _PageUrls()
    streams: list[list[TimelineEntry]] = []
    if query.wants("note"):
        notes = (
            Note.objects.filter(**subject)
            .filter(query.window_q(source_app=SOURCE, kind="note", at_field="created"))
            .order_by(*query.order_by("created"))
            .values(*NOTE_FIELDS, "author__email")[: query.limit]
        )
        streams.append([_note_entry(note, urls) for note in notes])
    for kind, at_field in (("task", "created"), ("task_done", "done_at")):
        if not query.wants(kind):
            continue
        tasks = (
            Task.objects.filter(**subject)
            .filter(query.window_q(source_app=SOURCE, kind=kind, at_field=at_field))
            .order_by(*query.order_by(at_field))
            .values(*TASK_FIELDS)[: query.limit]
        )
        streams.append([_task_entry(task, kind, urls) for task in tasks])
    return list(heapq.merge(*streams, key=lambda entry: entry.sort_key, reverse=True))[: query.limit]


def _note_entry(note: dict, urls: _PageUrls) -> TimelineEntry:
    return TimelineEntry(
        at=note["created"],
        kind="note",
        id=note["id"],
        title=f"Note on {note['contact__name']}" if note["contact_id"] else "Note",
        summary=_plain(note["body"]),
        url=f"{urls.of(note)}#note-{note['id']}",
        actor=_name(note["author__name"], note["author__email"]),
        source_app=SOURCE,
        detail={"pinned": note["pinned"]},
    )


def _task_entry(task: dict, kind: str, urls: _PageUrls) -> TimelineEntry:
    done = kind == "task_done"
    owner = _name(task["owner__name"], task["owner__email"])
    about = f"For {task['contact__name']}. " if task["contact_id"] else ""
    return TimelineEntry(
        at=task["done_at"] if done else task["created"],
        kind=kind,
        id=task["id"],
        title=f"Task done: {task['title']}" if done else f"Task: {task['title']}",
        summary=about + (f"Owner: {owner}." if owner else ""),
        url=f"{urls.of(task)}#task-{task['id']}",
        actor=owner if done else _name(task["created_by__name"], task["created_by__email"]),
        source_app=SOURCE,
        detail={"due_at": task["due_at"], "done": task["done"]},
    )


def _own_active_customers(since: datetime, until: datetime) -> set[int]:
    """Companies with a note, a task or a task done in [since, until): one query."""
    notes = Note.objects.filter(created__gte=since, created__lt=until).order_by().values_list("customer_id")
    tasks = Task.objects.filter(created__gte=since, created__lt=until).order_by().values_list("customer_id")
    done = Task.objects.filter(done_at__gte=since, done_at__lt=until).order_by().values_list("customer_id")
    return {customer_id for (customer_id,) in notes.union(tasks, done) if customer_id is not None}


def active_customers(since: datetime, until: datetime) -> set[int] | None:
    """The companies with any timeline entry in [since, until) by every provider's `active_customers`, or None
    when a provider cannot say (its caller then asks each company)."""
    found: set[int] = set()
    for provider in providers():
        if provider.active_customers is None:
            return None
        found |= provider.active_customers(since, until)
    return found


OWN_PROVIDER = TimelineProvider(
    source_app=SOURCE, kinds=KINDS, entries=_own_entries, active_customers=_own_active_customers
)
