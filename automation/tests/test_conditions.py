"""Each operator of each kind of field, compiled and tested in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from automation.conditions import Facts, compile_condition, compile_conditions, sql_filters

KINDS = {
    "status": "choice",
    "assignee": "user",
    "subject": "text",
    "tags": "tags",
    "risk": "number",
    "breached": "bool",
    "event_time": "time",
}
RECORD = {
    "status": "open",
    "assignee": "",
    "subject": "Printer on fire",
    "tags": ["vip", "printer"],
    "risk": 72.5,
    "breached": False,
}


def holds(field, op, value=None, *, changed=(), business=True):
    test = compile_condition({"field": field, "op": op, "value": value}, KINDS)
    at = datetime(2026, 12, 8, 10, tzinfo=UTC)
    return test(Facts(RECORD, frozenset(changed), at=at, business_open=lambda instant: business))


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("status", "is", "open", True),
        ("status", "is", "pending", False),
        ("status", "is_not", "pending", True),
        ("status", "is", ["pending", "open"], True),
        ("assignee", "is_empty", None, True),
        ("assignee", "is_set", None, False),
        ("assignee", "is", "", True),
        ("subject", "contains", "PRINTER", True),
        ("subject", "not_contains", "toner", True),
        ("subject", "is", " printer on FIRE ", True),
        ("tags", "contains", ["VIP"], True),
        ("tags", "contains", ["gold"], False),
        ("tags", "not_contains", ["gold"], True),
        ("risk", "gt", "70", True),
        ("risk", "gt", "80", False),
        ("risk", "lt", "80", True),
        ("risk", "is", "72.50", True),
        ("breached", "is_false", None, True),
        ("breached", "is_true", None, False),
    ],
)
def test_operators(field, op, value, expected):
    assert holds(field, op, value) is expected


def test_changed_and_changed_to_need_the_event_to_have_changed_the_field():
    assert holds("status", "changed", changed={"status"}) is True
    assert holds("status", "changed") is False
    assert holds("status", "changed_to", "open", changed={"status"}) is True
    assert holds("status", "changed_to", "solved", changed={"status"}) is False
    assert holds("status", "changed_to", "open") is False


def test_within_and_outside_business_hours_ask_the_calendar_once():
    asked = []
    test = compile_conditions(
        {
            "all": [{"field": "event_time", "op": "within_business_hours"}],
            "any": [{"field": "event_time", "op": "within_business_hours"}],
        },
        KINDS,
    )
    facts = Facts(RECORD, at=datetime(2026, 12, 8, 10, tzinfo=UTC), business_open=lambda i: asked.append(i) or True)
    assert test(facts) is True
    assert len(asked) == 1
    assert holds("event_time", "outside_business_hours", business=False) is True
    assert holds("event_time", "within_business_hours", business=False) is False


def test_all_and_any_groups():
    all_ok = {"field": "status", "op": "is", "value": "open"}
    no = {"field": "status", "op": "is", "value": "solved"}
    facts = Facts(RECORD)
    assert compile_conditions({"all": [all_ok], "any": []}, KINDS)(facts) is True
    assert compile_conditions({"all": [all_ok], "any": [no, all_ok]}, KINDS)(facts) is True
    assert compile_conditions({"all": [all_ok], "any": [no]}, KINDS)(facts) is False
    assert compile_conditions({"all": [all_ok, no]}, KINDS)(facts) is False
    assert compile_conditions({}, KINDS)(facts) is True


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "nope", "op": "is", "value": "x"},
        {"field": "tags", "op": "gt", "value": "1"},
        {"field": "risk", "op": "gt", "value": "many"},
        {"field": "subject", "op": "contains", "value": ""},
    ],
)
def test_conditions_that_cannot_work_are_refused(condition):
    with pytest.raises(ValidationError):
        compile_condition(condition, KINDS)


def test_time_rules_push_simple_is_conditions_into_sql():
    conditions = {
        "all": [
            {"field": "priority", "op": "is", "value": "urgent"},
            {"field": "assignee", "op": "is_empty", "value": ""},
            {"field": "subject", "op": "contains", "value": "x"},
        ]
    }
    assert sql_filters(conditions, frozenset({"priority", "assignee"})) == {"priority": "urgent", "assignee": ""}
