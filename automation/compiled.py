"""Active rules compiled once per workspace and process, so an event costs one cache read plus in-memory tests.

The workspace's rules carry a stamp in the shared cache (tenant-prefixed keys): any save bumps it after commit,
and each process recompiles when the stamp it holds differs. A missing stamp (cache flushed, Redis down and the
database fallback cold) is rebuilt from the rules table itself."""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from .catalog import TRIGGERS_BY_KEY
from .conditions import Predicate, compile_conditions
from .models import Rule
from .sources import fields_for

logger = logging.getLogger(__name__)
STAMP_KEY = "automation:rules-stamp"
# How long a process trusts its compiled rules before asking the cache again: a saved rule reaches the other
# processes within this, and a busy worker reads the stamp once per second instead of once per event.
STAMP_TRUST_SECONDS = 1.0


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    position: int
    trigger: str
    object_type: str
    predicate: Predicate
    actions: tuple[dict[str, Any], ...]
    conditions: dict[str, Any]
    timer: dict[str, Any]

    @property
    def fields(self) -> frozenset[str]:
        """The fields its conditions test."""
        return frozenset(
            row.get("field")
            for group in ("all", "any")
            for row in (self.conditions.get(group) or [])
            if row.get("field")
        )


@dataclass
class RuleSet:
    stamp: str
    by_trigger: dict[str, tuple[CompiledRule, ...]]
    checked: float = 0.0


_PROCESS: dict[tuple[str, str], RuleSet] = {}


def rules_changed() -> None:
    """Every process recompiles this workspace's rules at its next event: now (this process, inside the transaction,
    e.g. a dry run of what was just saved) and again once the transaction commits (everyone else)."""
    _PROCESS.pop(_process_key(), None)
    cache.set(STAMP_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(STAMP_KEY, uuid.uuid4().hex, None))


def _stamp() -> str:
    stamp = cache.get(STAMP_KEY)
    if stamp is None:
        stamp = uuid.uuid4().hex
        cache.add(STAMP_KEY, stamp, None)
        stamp = cache.get(STAMP_KEY) or stamp
    return stamp


def rule_set() -> RuleSet:
    """This workspace's enabled rules by trigger, in position order, compiled."""
    key = _process_key()
    current = _PROCESS.get(key)
    now = time.monotonic()
    if current is not None and now - current.checked < STAMP_TRUST_SECONDS:
        return current
    stamp = _stamp()
    if current is not None and current.stamp == stamp:
        current.checked = now
        return current
    current = RuleSet(stamp=stamp, by_trigger=_compile_all(), checked=now)
    _PROCESS[key] = current
    return current


def _process_key() -> tuple[str, str]:
    # The cache's key prefix too: tests give each test a prefix of its own (and roll its rules back).
    return connection.schema_name, str(settings.CACHES["default"].get("KEY_PREFIX", ""))


def rules_for(trigger: str) -> tuple[CompiledRule, ...]:
    return rule_set().by_trigger.get(trigger, ())


def fields_read(rules: tuple[CompiledRule, ...] | list[CompiledRule]) -> tuple[str, ...]:
    """What an event must read for these rules: the fields their conditions test (sorted, so it caches well)."""
    return tuple(sorted(set().union(*(rule.fields for rule in rules)))) if rules else ()


def kinds_for(object_type: str) -> dict[str, str]:
    return {field["name"]: field["kind"] for field in fields_for(object_type)}


def compile_rule(rule: Rule, kinds: dict[str, str] | None = None) -> CompiledRule:
    """ValidationError when the rule cannot be compiled (a field or operator that does not exist)."""
    object_type = TRIGGERS_BY_KEY[rule.trigger].object_type
    kinds = kinds if kinds is not None else kinds_for(object_type)
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        position=rule.position,
        trigger=rule.trigger,
        object_type=object_type,
        predicate=compile_conditions(rule.conditions or {}, kinds),
        actions=tuple(rule.actions or ()),
        conditions=rule.conditions or {},
        timer=rule.timer or {},
    )


def _compile_all() -> dict[str, tuple[CompiledRule, ...]]:
    kinds: dict[str, dict[str, str]] = {}
    grouped: dict[str, list[CompiledRule]] = defaultdict(list)
    for rule in Rule.objects.filter(enabled=True).order_by("position", "id"):
        trigger = TRIGGERS_BY_KEY.get(rule.trigger)
        if trigger is None:
            continue
        if trigger.object_type not in kinds:
            kinds[trigger.object_type] = kinds_for(trigger.object_type)
        try:
            grouped[rule.trigger].append(compile_rule(rule, kinds[trigger.object_type]))
        except Exception:  # a rule that no longer compiles (a field gone) must not stop the others
            logger.exception("automation rule %s does not compile; skipped", rule.pk)
    return {trigger: tuple(rules) for trigger, rules in grouped.items()}
