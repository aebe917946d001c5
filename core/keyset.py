"""Keyset ("seek") pagination for HTML lists, with opaque signed cursors.

No OFFSET: a page is "the next N rows after this sort key", so page 200 costs the same as page 1 and rows
inserted meanwhile do not shift what the reader sees. The cursor holds the sort key and id of the row at the
page edge, signed so it cannot be forged into an arbitrary filter. Nothing here knows about customers; other
list pages can use it as is.

`count_up_to` goes with it: how many rows match, counting no further than a cap, because counting every
match of a broad search costs about as much as reading them all, and "10,000+" tells a reader as much.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core import signing
from django.db.models import F, Field, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan, Lookup

T = TypeVar("T")

NEXT = "n"
PREV = "p"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    prev_cursor: str | None
    total: int | None = None
    # True when counting stopped at a cap: more than `total` rows match.
    total_capped: bool = False

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


@dataclass(frozen=True)
class KeysetOrder:
    """The attributes a list is sorted by, the last one unique (the id), all in one direction."""

    keys: tuple[str, ...]
    descending: bool = False

    @property
    def signature(self) -> str:
        return ("-" if self.descending else "") + ",".join(self.keys)

    def order_by(self, *, reverse: bool = False) -> list[str]:
        descending = self.descending != reverse
        return [f"-{key}" if descending else key for key in self.keys]


def paginate(queryset: QuerySet, *, order: KeysetOrder, cursor: str | None, page_size: int, salt: str) -> Page:
    """One query: page_size + 1 rows after (or before) the cursor's position."""
    position = _decode(cursor, order=order, salt=salt)
    backwards = position is not None and position[1] == PREV
    rows = queryset.order_by(*order.order_by(reverse=backwards))
    if position is not None:
        rows = rows.filter(_after(order, position[0], reverse=backwards))
    items = list(rows[: page_size + 1])
    has_more = len(items) > page_size
    items = items[:page_size]
    if position is not None and not items:
        # The rows around the cursor were deleted meanwhile: the first page beats an empty dead end.
        return paginate(queryset, order=order, cursor=None, page_size=page_size, salt=salt)
    if backwards:
        items.reverse()
        prev_cursor = _encode(order, items[0], PREV, salt) if has_more else None
        next_cursor = _encode(order, items[-1], NEXT, salt)
    else:
        prev_cursor = _encode(order, items[0], PREV, salt) if position is not None else None
        next_cursor = _encode(order, items[-1], NEXT, salt) if has_more else None
    return Page(items=items, next_cursor=next_cursor, prev_cursor=prev_cursor)


def cursor_after(item: Any, *, order: KeysetOrder, salt: str) -> str:
    """The cursor of the page that follows `item`, for lists whose first page was read some other way (the lead
    board reads every column's first cards in one query)."""
    return _encode(order, item, NEXT, salt)


def count_up_to(queryset: QuerySet, cap: int) -> tuple[int, bool]:
    """How many rows match, and whether there are more than `cap` (then the count is `cap`). One query."""
    # Only the ids, unordered: annotations and joins meant for display stay out of the count.
    found = queryset.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap


def rows_after(order: KeysetOrder, values: Sequence[Any]) -> Lookup:
    """A filter for the rows that come after the row whose sort key is `values`, in `order`."""
    return _after(order, values, reverse=False)


def _after(order: KeysetOrder, values: Sequence[Any], *, reverse: bool) -> Lookup:
    """(k1, k2, id) > (v1, v2, v3) as one SQL row comparison, which PostgreSQL turns into a single range of the
    index on (k1, k2, id): the page starts right at the cursor however many rows share its k1 (a tier, say)."""
    compare = LessThan if order.descending != reverse else GreaterThan
    return compare(_row(F(key) for key in order.keys), _row(Value(value) for value in values))


def _row(expressions) -> Func:
    return Func(*expressions, function="ROW", output_field=Field())


def _encode(order: KeysetOrder, item: Any, direction: str, salt: str) -> str:
    values = [_dump(getattr(item, key)) for key in order.keys]
    return signing.dumps({"o": order.signature, "d": direction, "v": values}, salt=salt, compress=True)


def _decode(cursor: str | None, *, order: KeysetOrder, salt: str) -> tuple[list[Any], str] | None:
    """A cursor from another sort order, a tampered or a garbled one silently means "first page"."""
    if not cursor:
        return None
    try:
        payload = signing.loads(cursor, salt=salt)
        if payload["o"] != order.signature or payload["d"] not in {NEXT, PREV}:
            return None
        values = [_load(value) for value in payload["v"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if len(values) != len(order.keys):
        return None
    return values, payload["d"]


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, Decimal):  # money columns: exact, as text
        return {"dec": str(value)}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        if "dec" in value:
            return Decimal(value["dec"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        return datetime.fromisoformat(value["dt"])
    return value
