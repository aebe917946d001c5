"""What other apps exchange with customers' timeline: the entries they contribute and the page query they answer.

Frozen dataclasses and nothing else of customers: an app that contributes entries imports this module (and
`customers.facade` to register), never customers' models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.dispatch import Signal


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a company or a person, as the timeline shows it.

    The timeline is sorted newest first by `sort_key`: the time, then (source app, kind, row id) so entries at
    the same instant still have one fixed order and a page border between them loses or repeats nothing.
    """

    at: datetime
    kind: str
    id: int  # the source row's id, unique within (source_app, kind)
    title: str
    summary: str
    url: str
    actor: str
    source_app: str
    # Optional extras a kind may carry (a CSAT rating, a task's due time), shown by the template when present.
    detail: Mapping[str, object] | None = None

    @property
    def sort_key(self) -> tuple[datetime, str, str, int]:
        return (self.at, self.source_app, self.kind, self.id)


@dataclass(frozen=True)
class TimelinePosition:
    """The last entry of the page a reader has seen: the next page holds what sorts strictly below it."""

    at: datetime
    source_app: str
    kind: str
    id: int

    @property
    def key(self) -> tuple[datetime, str, str, int]:
        """Comparable with `TimelineEntry.sort_key`: entries of the next page have a smaller one."""
        return (self.at, self.source_app, self.kind, self.id)

    def older_q(self, *, source_app: str, kind: str, at_field: str, id_field: str = "id") -> Q:
        """The filter for rows of (`source_app`, `kind`) that come after this position, newest first.

        Rows of a (source, kind) sorting before the position's at the same instant were already shown (`<`);
        rows of one sorting after it were not (`<=`); rows of the same kind compare (time, id).
        """
        group, mine = (source_app, kind), (self.source_app, self.kind)
        if group == mine:
            return Q(**{f"{at_field}__lt": self.at}) | Q(**{at_field: self.at, f"{id_field}__lt": self.id})
        if group > mine:
            return Q(**{f"{at_field}__lt": self.at})
        return Q(**{f"{at_field}__lte": self.at})


@dataclass(frozen=True)
class TimelineQuery:
    """What a provider is asked for: at most `limit` entries of one company (or one of its people), of the
    `kinds` it knows among those asked, between `since` (inclusive) and `until` (exclusive), older than `after`
    (None: from the newest), newest first by `TimelineEntry.sort_key`."""

    customer_id: int | None
    contact_id: int | None
    kinds: frozenset[str]
    limit: int
    since: datetime | None = None
    until: datetime | None = None
    after: TimelinePosition | None = None

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    def window_q(self, *, source_app: str, kind: str, at_field: str, id_field: str = "id") -> Q:
        """Date range and page position as one filter on a provider's time (and id) column."""
        q = Q(**{f"{at_field}__isnull": False})
        if self.since is not None:
            q &= Q(**{f"{at_field}__gte": self.since})
        if self.until is not None:
            q &= Q(**{f"{at_field}__lt": self.until})
        if self.after is not None:
            q &= self.after.older_q(source_app=source_app, kind=kind, at_field=at_field, id_field=id_field)
        return q

    def order_by(self, at_field: str, id_field: str = "id") -> list[str]:
        return [f"-{at_field}", f"-{id_field}"]


@dataclass(frozen=True)
class TimelineKind:
    """An activity type a provider contributes: its filter chip's label and its Bootstrap icon name."""

    name: str
    label: str
    icon: str


@dataclass(frozen=True)
class TimelineProvider:
    """An app's contribution: the kinds it knows and the function that answers a `TimelineQuery`.

    `entries` returns at most `query.limit` entries, sorted newest first by `TimelineEntry.sort_key`, in a
    number of queries that does not grow with the page size or the company's history.

    `active_customers(since, until)` returns the ids of the companies that have at least one of the provider's
    entries in [since, until), in a fixed number of queries whatever the number of companies (the daily summary
    visits only those). Without it, every company is asked for a page of that day.
    """

    source_app: str
    kinds: tuple[TimelineKind, ...]
    entries: Callable[[TimelineQuery], list[TimelineEntry]]
    active_customers: Callable[[datetime, datetime], set[int]] | None = None


@dataclass(frozen=True)
class CompanyPanel:
    """A read-only block another app adds to the company page (e.g. the company's open leads).

    `context(customer_id, user)` returns the template's context, or None to show nothing to this user; it runs a
    fixed number of queries. `template` is the app's own partial, rendered with that context as `panel`.
    """

    name: str
    template: str
    context: Callable[[int, Any], Mapping[str, object] | None]


@dataclass(frozen=True)
class CustomerBrief:
    """A company as reports name it: who owns the account, its tier and current health."""

    id: int
    name: str
    tier: str
    owner_id: int | None
    owner_name: str
    owner_email: str
    health_score: int | None


@dataclass(frozen=True)
class HealthDrop:
    """A company whose health score fell between two daily snapshots."""

    customer: CustomerBrief
    was: int
    now: int
    was_day: date
    now_day: date

    @property
    def drop(self) -> int:
        return self.was - self.now


# --- automation ---
# Sent after the change commits with `event` (one of AUTOMATION_EVENTS), `object_id` (the company's id) and
# `changed` (the names of the fields that changed): automation rules listen (automation.receivers).
automation_event = Signal()
HEALTH_DROPPED = "customer.health_dropped"
AUTOMATION_EVENTS = (HEALTH_DROPPED,)
