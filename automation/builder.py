"""The rule editor's form: numbered condition and action rows posted as plain fields, parsed into a rule's data,
and rows described back for the template with the inputs each field or action type needs (type-aware)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict

from accounts import facade as accounts
from helpdesk.facade import automation as helpdesk_automation
from inbox import facade as inbox

from .actions import action_types
from .catalog import OPERATORS, TIMER_UNITS, TRIGGERS, TRIGGERS_BY_KEY
from .sources import fields_for

GROUPS = ("all", "any")
_ROW = re.compile(r"^(cond_(?:all|any)|action)_(\w+)_(\d+)$")


def _rows(post: QueryDict, prefix: str) -> list[dict[str, Any]]:
    """The numbered rows, in order; a field posted several times (a row's checkboxes) keeps every value."""
    rows: dict[int, dict[str, Any]] = {}
    for key in post:
        match = _ROW.match(key)
        if match and match[1] == prefix:
            values = post.getlist(key)
            rows.setdefault(int(match[3]), {})[match[2]] = values if len(values) > 1 else post.get(key, "")
    return [rows[index] for index in sorted(rows)]


def _listed(value: Any) -> list[str]:
    return [item for item in (value if isinstance(value, list) else [value]) if item]


def _tags(text: str) -> list[str]:
    return [tag.strip() for tag in re.split(r"[,\n]", text or "") if tag.strip()]


def data_from_post(post: QueryDict) -> dict[str, Any]:
    """The rule's data as services.rule_create/rule_update take it, from the editor's fields."""
    kinds_by_trigger = TRIGGERS_BY_KEY.get(post.get("trigger", ""))
    object_type = kinds_by_trigger.object_type if kinds_by_trigger else "ticket"
    kinds = {field["name"]: field["kind"] for field in fields_for(object_type)}
    conditions: dict[str, list] = {"all": [], "any": []}
    for group in GROUPS:
        for row in _rows(post, f"cond_{group}"):
            if not row.get("field"):
                conditions[group].append({"field": "", "op": "", "value": ""})  # a row being filled in
                continue
            value: Any = row.get("value", "")
            if kinds.get(row["field"]) == "tags":
                value = _tags(value)
            conditions[group].append({"field": row["field"], "op": row.get("op", ""), "value": value})
    value_kinds = {action.type: action.value_kind for action in action_types()}
    actions = []
    for row in _rows(post, "action"):
        type_ = row.get("type", "")
        if not type_:
            actions.append({"type": "", "value": ""})  # a row being filled in
            continue
        kind = value_kinds.get(type_, "text")
        if kind == "none":
            actions.append({"type": type_})
        elif kind == "tags":
            actions.append({"type": type_, "value": _tags(row.get("value", ""))})
        elif kind == "email":
            actions.append(
                {
                    "type": type_,
                    "value": {"to": row.get("to", ""), "subject": row.get("subject", ""), "body": row.get("body", "")},
                }
            )
        elif kind == "sms":
            actions.append({"type": type_, "value": {"to": row.get("to", ""), "body": row.get("body", "")}})
        elif kind == "recipients":
            people = _listed(row.get("people")) + [f"user:{pk}" for pk in _listed(row.get("person"))]
            actions.append({"type": type_, "value": {"people": people, "message": row.get("message", "")}})
        else:
            actions.append({"type": type_, "value": row.get("value", "")})
    timer = {}
    if kinds_by_trigger is not None and kinds_by_trigger.time:
        timer = {
            "anchor": post.get("timer_anchor", ""),
            "amount": post.get("timer_amount", ""),
            "unit": post.get("timer_unit", ""),
        }
    return {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "trigger": post.get("trigger", ""),
        "conditions": conditions,
        "actions": actions,
        "timer": timer,
    }


def without_blank_rows(data: dict[str, Any]) -> dict[str, Any]:
    """What is saved or dry-run: the rows the admin has not filled in yet are left out."""
    conditions = {group: [row for row in data["conditions"][group] if row.get("field")] for group in GROUPS}
    return {**data, "conditions": conditions, "actions": [row for row in data["actions"] if row.get("type")]}


def edit_apply(data: dict[str, Any], edit: str) -> dict[str, Any]:
    """An editor button: add_all / add_any / add_action, remove_<group>_<n> / remove_action_<n>."""
    conditions = data["conditions"]
    if edit in ("add_all", "add_any"):
        conditions[edit[4:]].append({"field": "", "op": "", "value": ""})
    elif edit == "add_action":
        data["actions"].append({"type": "", "value": ""})
    elif match := re.fullmatch(r"remove_(all|any|action)_(\d+)", edit):
        rows = data["actions"] if match[1] == "action" else conditions[match[1]]
        index = int(match[2])
        if 0 <= index < len(rows):
            rows.pop(index)
    return data


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _recipients_shown(value: Any) -> dict[str, Any]:
    """A notify action's value as its inputs show it: the roles ticked, the people chosen, the message."""
    value = value if isinstance(value, Mapping) else {}
    people = [str(item) for item in value.get("people") or []]
    return {
        "roles": [item for item in people if not item.startswith("user:")],
        "people": [item[5:] for item in people if item.startswith("user:")],
        "message": value.get("message") or "",
    }


def editor_context(data: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the editor template shows: triggers, the timer, and each row with its type-aware input."""
    trigger = TRIGGERS_BY_KEY.get(data.get("trigger") or "") or TRIGGERS[0]
    fields = fields_for(trigger.object_type)
    by_name = {field["name"]: field for field in fields}
    rows: dict[str, list[dict[str, Any]]] = {}
    for group in GROUPS:
        rows[group] = []
        for condition in (data.get("conditions") or {}).get(group) or []:
            field = by_name.get(condition.get("field") or "")
            operators = OPERATORS[field["kind"]] if field else ()
            op = condition.get("op") or (operators[0][0] if operators else "")
            takes = next((takes for key, _label, takes in operators if key == op), False)
            rows[group].append(
                {
                    "field": condition.get("field") or "",
                    "op": op,
                    "value": _value_text(condition.get("value")),
                    "spec": field,
                    "operators": operators,
                    "takes_value": takes,
                }
            )
    specs = {action.type: action for action in action_types(trigger.object_type)}
    actions = []
    for action in data.get("actions") or []:
        spec = specs.get(action.get("type") or "")
        value = action.get("value")
        choices: list[tuple[str, str]] = list(spec.choices) if spec else []
        if spec and spec.value_kind == "webhook":
            choices = [(str(pk), label) for pk, label in inbox.webhook_choices()]
        if spec and spec.value_kind == "recipients":
            value = _recipients_shown(value)
        actions.append(
            {
                "type": action.get("type") or "",
                "spec": spec,
                "choices": choices,
                "value": value if isinstance(value, dict) else _value_text(value),
            }
        )
    grouped: dict[str, list] = {}
    for action in specs.values():
        grouped.setdefault(action.group, []).append(action)
    return {
        "triggers": TRIGGERS,
        "trigger": trigger,
        "fields": fields,
        "rows": rows,
        "actions": actions,
        "action_groups": grouped,
        "timer": data.get("timer") or {},
        "timer_units": TIMER_UNITS,
        "timer_anchors": helpdesk_automation.timer_anchor_choices(),
        "people": [(str(pk), name) for pk, name in accounts.capability_people("tickets.view").items()],
        "data": data,
    }
