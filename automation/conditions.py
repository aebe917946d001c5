"""Rule conditions compiled into plain Python predicates, so an event is tested against every active rule in memory.

A record is the dict of field values an app's facade gave for one object (automation/sources.py); `changed` is the
set of field names the event changed. The compiled predicate never queries: business hours are asked once per
event, lazily, through the `Facts` it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from .catalog import OPERATORS, OPERATORS_TAKING_VALUE


@dataclass
class Facts:
    """What one object looks like for one event: its fields, what the event changed, when it happened."""

    record: Mapping[str, Any]
    changed: frozenset[str] = frozenset()
    at: datetime | None = None
    business_open: Callable[[datetime], bool] | None = None
    _open: bool | None = field(default=None, repr=False)

    def is_business_hours(self) -> bool:
        if self._open is None:
            self._open = bool(self.business_open and self.at and self.business_open(self.at))
        return self._open


Predicate = Callable[[Facts], bool]


def _number(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _empty(value: Any) -> bool:
    return value in (None, "", [], ())


def _same(value: Any, expected: Any, kind: str) -> bool:
    if kind == "number":
        return _number(value) is not None and _number(value) == _number(expected)
    if kind == "text":
        return _text(value).strip().casefold() == _text(expected).strip().casefold()
    if isinstance(expected, list | tuple):  # "is any of"
        return _text(value) in {_text(item) for item in expected}
    return _text(value) == _text(expected)


def _contains(value: Any, expected: Any, kind: str) -> bool:
    if kind == "tags":
        wanted = expected if isinstance(expected, list | tuple) else [expected]
        tags = {_text(tag).casefold() for tag in value or ()}
        return any(_text(tag).strip().casefold() in tags for tag in wanted if _text(tag).strip())
    return _text(expected).casefold() in _text(value).casefold()


def compile_condition(condition: Mapping[str, Any], kinds: Mapping[str, str]) -> Predicate:
    """One condition {"field", "op", "value"} as a predicate. ValidationError for an unknown field or operator."""
    name, op, expected = condition.get("field"), condition.get("op"), condition.get("value")
    kind = kinds.get(name or "")
    if kind is None:
        raise ValidationError(f"Unknown field “{name}”.")
    if op not in {key for key, _label, _takes in OPERATORS[kind]}:
        raise ValidationError(f"“{op}” does not apply to {name}.")
    if op in OPERATORS_TAKING_VALUE and _empty(expected) and op not in ("is", "is_not", "changed_to"):
        raise ValidationError(f"The condition on {name} needs a value.")
    if op in ("gt", "lt") and _number(expected) is None:
        raise ValidationError(f"The condition on {name} needs a number.")

    def get(facts: Facts) -> Any:
        return facts.record.get(name)

    match op:
        case "is":
            return lambda facts: _same(get(facts), expected, kind)
        case "is_not":
            return lambda facts: not _same(get(facts), expected, kind)
        case "contains":
            return lambda facts: _contains(get(facts), expected, kind)
        case "not_contains":
            return lambda facts: not _contains(get(facts), expected, kind)
        case "is_empty":
            return lambda facts: _empty(get(facts))
        case "is_set":
            return lambda facts: not _empty(get(facts))
        case "changed":
            return lambda facts: name in facts.changed
        case "changed_to":
            return lambda facts: name in facts.changed and _same(get(facts), expected, kind)
        case "gt":
            limit = _number(expected)
            return lambda facts: (_number(get(facts)) or Decimal("-Infinity")) > limit
        case "lt":
            limit = _number(expected)
            return lambda facts: _number(get(facts)) is not None and _number(get(facts)) < limit
        case "is_true":
            return lambda facts: bool(get(facts))
        case "is_false":
            return lambda facts: not get(facts)
        case "within_business_hours":
            return lambda facts: facts.is_business_hours()
        case "outside_business_hours":
            return lambda facts: not facts.is_business_hours()
    raise ValidationError(f"“{op}” is not an operator.")  # pragma: no cover (OPERATORS lists only the above)


def compile_conditions(conditions: Mapping[str, Any], kinds: Mapping[str, str]) -> Predicate:
    """{"all": [...], "any": [...]}: every "all" condition holds and, when "any" has some, at least one of them."""
    every = [compile_condition(item, kinds) for item in _rows(conditions, "all")]
    some = [compile_condition(item, kinds) for item in _rows(conditions, "any")]

    def predicate(facts: Facts) -> bool:
        for test in every:
            if not test(facts):
                return False
        if some:
            return any(test(facts) for test in some)
        return True

    return predicate


def _rows(conditions: Mapping[str, Any], group: str) -> Sequence[Mapping[str, Any]]:
    rows = (conditions or {}).get(group) or []
    if not isinstance(rows, list):
        raise ValidationError(f"Conditions “{group}” must be a list.")
    return rows


def sql_filters(conditions: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The "all" conditions a time rule's query can apply in SQL: `is` on the allowed fields (a superset of the
    matches; every condition is still tested in memory afterwards)."""
    filters: dict[str, Any] = {}
    for item in _rows(conditions, "all"):
        if item.get("op") == "is" and item.get("field") in allowed and item["field"] not in filters:
            filters[item["field"]] = item.get("value") if item.get("value") is not None else ""
        elif item.get("op") == "is_empty" and item.get("field") in ("assignee", "team"):
            filters[item["field"]] = ""
    return filters
