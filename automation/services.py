"""Every write of the automation app: rules (each save a new version with its author), enabling, ordering,
deleting, and pruning the run log and the firing ledger."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .actions import validate_actions
from .catalog import TIMER_UNITS, TRIGGERS_BY_KEY
from .compiled import compile_rule, rules_changed
from .models import Rule, RuleFiring, RuleRun, RuleVersion

RUN_RETENTION_DAYS = getattr(settings, "AUTOMATION_RUN_RETENTION_DAYS", 30)
SNAPSHOT_FIELDS = ("name", "description", "trigger", "conditions", "actions", "timer", "enabled", "position")
MAX_TIMER_MINUTES = 366 * 24 * 60


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": "Give the rule a name."})
    trigger = TRIGGERS_BY_KEY.get(data.get("trigger") or "")
    if trigger is None:
        raise ValidationError({"trigger": "Choose what starts the rule."})
    conditions = {
        "all": list((data.get("conditions") or {}).get("all") or []),
        "any": list((data.get("conditions") or {}).get("any") or []),
    }
    actions = list(data.get("actions") or [])
    if not actions:
        raise ValidationError({"actions": "Add at least one action."})
    try:
        actions = validate_actions(actions, trigger.object_type)
    except ValidationError as error:
        raise ValidationError({"actions": error.messages}) from error
    timer: dict[str, Any] = {}
    if trigger.time:
        timer = _clean_timer(data.get("timer") or {})
    cleaned = {
        "name": name[:120],
        "description": (data.get("description") or "").strip()[:300],
        "trigger": trigger.key,
        "conditions": conditions,
        "actions": actions,
        "timer": timer,
    }
    try:
        compile_rule(Rule(**cleaned))
    except ValidationError as error:
        raise ValidationError({"conditions": error.messages}) from error
    return cleaned


def _clean_timer(timer: Mapping[str, Any]) -> dict[str, Any]:
    from helpdesk.facade.automation import TIMER_ANCHORS

    anchor, unit = timer.get("anchor") or "", timer.get("unit") or ""
    if anchor not in TIMER_ANCHORS:
        raise ValidationError({"timer": "Choose what the time counts from."})
    if unit not in dict(TIMER_UNITS):
        raise ValidationError({"timer": "Choose minutes, hours, days or business hours."})
    try:
        amount = int(timer.get("amount"))
    except (TypeError, ValueError):
        raise ValidationError({"timer": "How long? A whole number."}) from None
    factor = {"minutes": 1, "hours": 60, "business_hours": 60, "days": 1440}[unit]
    if amount < 1 or amount * factor > MAX_TIMER_MINUTES:
        raise ValidationError({"timer": "Between 1 minute and a year."})
    return {"anchor": anchor, "amount": amount, "unit": unit}


def _snapshot(rule: Rule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in SNAPSHOT_FIELDS}


def _version(rule: Rule, actor) -> RuleVersion:
    number = (rule.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    return RuleVersion.objects.create(rule=rule, number=number, snapshot=_snapshot(rule), author=_user(actor))


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def rule_create(*, data: Mapping[str, Any], actor, enabled: bool = False) -> Rule:
    cleaned = _clean(data)
    position = (Rule.objects.aggregate(top=Max("position"))["top"] or 0) + 10
    rule = Rule.objects.create(
        **cleaned, enabled=enabled, position=position, created_by=_user(actor), updated_by=_user(actor)
    )
    _version(rule, actor)
    rules_changed()
    return rule


@transaction.atomic
def rule_update(*, rule: Rule, data: Mapping[str, Any], actor) -> Rule:
    cleaned = _clean(data)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if all(getattr(rule, key) == value for key, value in cleaned.items()):
        return rule
    if cleaned["trigger"] != rule.trigger or cleaned["timer"] != rule.timer:
        rule.checked_through = None  # a new timer starts from the beginning
    for key, value in cleaned.items():
        setattr(rule, key, value)
    rule.updated_by = _user(actor)
    rule.save()
    _version(rule, actor)
    rules_changed()
    return rule


@transaction.atomic
def rule_enable(*, rule: Rule, enabled: bool, actor) -> Rule:
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if rule.enabled == enabled:
        return rule
    rule.enabled, rule.updated_by = enabled, _user(actor)
    rule.save(update_fields=["enabled", "updated_by", "updated"])
    _version(rule, actor)
    rules_changed()
    return rule


@transaction.atomic
def rule_move(*, rule: Rule, direction: int, actor) -> Rule:
    """Moves the rule one place up (-1) or down (+1) in the evaluation order; positions are renumbered 10, 20…"""
    rules = list(Rule.objects.select_for_update().order_by("position", "id"))
    index = next(i for i, item in enumerate(rules) if item.pk == rule.pk)
    target = index + (1 if direction > 0 else -1)
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
    for number, item in enumerate(rules, start=1):
        if item.position != number * 10:
            item.position = number * 10
            Rule.objects.filter(pk=item.pk).update(position=item.position)
    rules_changed()
    return next(item for item in rules if item.pk == rule.pk)


@transaction.atomic
def rule_restore(*, rule: Rule, version: RuleVersion, actor) -> Rule:
    """Makes an older version current again (as a new version)."""
    snapshot = {
        key: version.snapshot.get(key) for key in ("name", "description", "trigger", "conditions", "actions", "timer")
    }
    return rule_update(rule=rule, data=snapshot, actor=actor)


@transaction.atomic
def rule_delete(*, rule: Rule, actor) -> None:
    rule.delete()
    rules_changed()


def runs_prune(*, days: int = RUN_RETENTION_DAYS, now=None) -> int:
    """Deletes run-log entries and ledger rows older than `days`; returns how many runs went. A time rule's cursor
    has long passed an old ledger row's anchor, so nothing fires twice for it."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = RuleRun.objects.filter(created__lt=cutoff).delete()
    RuleFiring.objects.filter(created__lt=cutoff).delete()
    return deleted
