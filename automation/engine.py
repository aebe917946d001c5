"""The rule engine: an event (or a time rule's timer) in, the matching rules fired in position order, each at most
once (the firing ledger), each firing logged as a RuleRun.

Loop protection: a change a rule makes is sent with source "rule:<id>" and never triggers that same rule again;
the events caused while rules run carry a depth one higher than the event that caused them, and events deeper than
MAX_DEPTH are not evaluated (rule A → rule B → rule A … stops there).
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.outbox import enqueue
from helpdesk.facade import actions as helpdesk_actions

from .actions import ActionContext, actions_run, object_path
from .catalog import EVENT_ALIASES, TICKET, TRIGGERS_BY_KEY
from .compiled import CompiledRule, fields_read, rules_for
from .conditions import Facts
from .models import RuleFiring, RuleRun
from .sources import business_open, source_for, values_for

logger = logging.getLogger(__name__)

MAX_DEPTH = getattr(settings, "AUTOMATION_MAX_DEPTH", 3)
# The depth of the event whose rules are running in this thread (None: no rule is running).
_running_depth: contextvars.ContextVar[int | None] = contextvars.ContextVar("automation_depth", default=None)


def trigger_for(event: str) -> str:
    return EVENT_ALIASES.get(event, event)


def event_wanted(event: str) -> bool:
    """Whether any enabled rule listens to `event`: one cache read, no query when the rules are compiled."""
    return bool(rules_for(trigger_for(event)))


def source_depth(source: str) -> int | None:
    """The depth of an event whose change a rule made: "rule:12" (the rule ran on an event of depth 0) → 1,
    "rule:12:2" → 3; None for a change not made by a rule."""
    if not (isinstance(source, str) and source.startswith("rule:")):
        return None
    parts = source.split(":")
    try:
        return (int(parts[2]) if len(parts) > 2 else 0) + 1
    except ValueError:
        return 1


def rule_id_of(source: str) -> int | None:
    """ "rule:12" → 12: the rule that made the change this event reports."""
    if isinstance(source, str) and source.startswith("rule:"):
        try:
            return int(source.split(":", 2)[1])
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Event:
    name: str
    object_type: str
    object_id: int
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    changed: tuple[str, ...] = ()
    source: str = ""
    depth: int = 0
    occurred_at: datetime = field(default_factory=timezone.now)

    def task_kwargs(self) -> dict[str, Any]:
        return {
            "event": self.name,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "key": self.key,
            "changed": list(self.changed),
            "source": self.source,
            "depth": self.depth,
            "occurred_at": self.occurred_at.isoformat(),
        }


def event_queue(
    name: str, object_type: str, object_id: int, *, changed: Iterable[str] = (), source: str = ""
) -> Event | None:
    """Queues the evaluation of `name` on the interactive queue (ids only), unless no rule listens or the chain of
    rule-caused events is already MAX_DEPTH long. Called after the change committed."""
    if not event_wanted(name):
        return None
    # The source says how deep a rule's change is; the running depth also covers changes made while a rule runs
    # through a path that does not pass its source on (e.g. a service called by an AI action).
    running = _running_depth.get()
    depth = max(0 if running is None else running + 1, source_depth(source) or 0)
    if depth > MAX_DEPTH:
        logger.warning(
            "automation: %s on %s %s not evaluated: rule chain deeper than %s", name, object_type, object_id, MAX_DEPTH
        )
        return None
    event = Event(name, object_type, int(object_id), changed=tuple(changed), source=source or "", depth=depth)
    from .tasks import automation_event_task

    enqueue(automation_event_task, **event.task_kwargs())
    return event


def event_process(event: Event, *, now: datetime | None = None) -> list[RuleRun]:
    """Tests every rule of the event's trigger against the object, in position order, and fires those that match
    (each once: the ledger row is written first). Returns the runs written."""
    rules = rules_for(trigger_for(event.name))
    if not rules or event.depth > MAX_DEPTH:
        return []
    skip = rule_id_of(event.source)
    fields = fields_read(rules)
    record = values_for(event.object_type, [event.object_id], now=now, fields=fields).get(event.object_id)
    if record is None:
        return []
    facts = Facts(record, frozenset(event.changed), at=event.occurred_at, business_open=business_open)
    runs: list[RuleRun] = []
    for rule in rules:
        if rule.id == skip or not rule.predicate(facts):
            continue
        if not _claim(rule, event_key=event.key, object_type=event.object_type, object_id=event.object_id):
            continue
        run = rule_fire(
            rule,
            event=event.name,
            object_type=event.object_type,
            object_id=event.object_id,
            record=record,
            depth=event.depth,
        )
        runs.append(run)
        if run.changes and any(line.get("changes") for line in run.changes):
            # Later rules see the object as this one left it.
            record = values_for(event.object_type, [event.object_id], now=now, fields=fields).get(
                event.object_id, record
            )
            facts = Facts(record, facts.changed, at=event.occurred_at, business_open=business_open)
    return runs


def _claim(rule: CompiledRule, *, object_type: str, object_id: int, event_key: str = "", period_key: str = "") -> bool:
    """Writes the ledger row; False when this rule already fired for this event (or object and period)."""
    try:
        with transaction.atomic():
            RuleFiring.objects.create(
                rule_id=rule.id,
                event_key=event_key,
                object_type=object_type,
                object_id=object_id,
                period_key=period_key,
            )
        return True
    except IntegrityError:
        return False


def placeholder_context(object_type: str, object_id: int, record: Mapping[str, Any]) -> dict[str, Any]:
    """What `{{ … }}` in a rule's email or SMS can use: the helpdesk's ticket context, else the record's fields."""
    if object_type == TICKET:
        try:
            return helpdesk_actions.ticket_placeholder_context(object_id)
        except Exception:  # the ticket is gone or unreadable: the fields we have still fill the text
            logger.exception("placeholder context of ticket %s", object_id)
    return {object_type: {"id": object_id, **{k: v for k, v in record.items() if not isinstance(v, list)}}}


def rule_fire(
    rule: CompiledRule, *, event: str, object_type: str, object_id: int, record: Mapping[str, Any], depth: int = 0
) -> RuleRun:
    """Runs the rule's actions (never raising) and logs the run with what changed, errors and duration."""
    started = time.perf_counter()
    token = _running_depth.set(depth)
    try:
        placeholders = placeholder_context(object_type, object_id, record)
        context = ActionContext(
            rule_id=rule.id,
            event=event,
            object_type=object_type,
            object_id=object_id,
            record=record,
            placeholders=placeholders,
            depth=depth,
        )
        outcomes = actions_run(context, rule.actions)
    except Exception as error:  # an unexpected failure is logged on the run; the event's other rules still run
        logger.exception("automation rule %s failed on %s %s", rule.id, object_type, object_id)
        outcomes, failure = [], f"{type(error).__name__}: {error}"
    else:
        failure = ""
    finally:
        _running_depth.reset(token)
    errors = [f"{outcome.label}: {outcome.error}" for outcome in outcomes if outcome.error]
    return RuleRun.objects.create(
        rule_id=rule.id,
        event=event,
        object_type=object_type,
        object_id=object_id,
        matched=True,
        changes=[outcome.as_dict() for outcome in outcomes],
        error="\n".join([failure, *errors]).strip(),
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
        depth=depth,
    )


# --- Dry run ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRunRow:
    object_id: int
    matched: bool
    outcomes: tuple[dict[str, Any], ...] = ()
    path: str = ""  # the object's page


def rule_dry_run(rule: CompiledRule, *, limit: int = 50, now: datetime | None = None) -> list[DryRunRow]:
    """The rule tested against the last `limit` objects of its kind: which match and what each action would do
    (ticket actions with dry_run=True). Writes nothing. "changed" conditions never hold: no event happened."""
    source = source_for(rule.object_type)
    if source is None:
        return []
    ids = source.recent(limit=limit)
    values = values_for(rule.object_type, ids, now=now)
    at = now or timezone.now()
    rows = []
    for object_id in ids:
        record = values.get(object_id)
        if record is None:
            continue
        facts = Facts(record, frozenset(), at=at, business_open=business_open)
        if not rule.predicate(facts):
            rows.append(DryRunRow(object_id, False))
            continue
        placeholders = placeholder_context(rule.object_type, object_id, record)
        context = ActionContext(
            rule_id=rule.id or 0,
            event=rule.trigger,
            object_type=rule.object_type,
            object_id=object_id,
            record=record,
            placeholders=placeholders,
            dry_run=True,
        )
        outcomes = actions_run(context, rule.actions)
        outcomes_shown = tuple(outcome.as_dict() for outcome in outcomes)
        rows.append(DryRunRow(object_id, True, outcomes_shown, object_path(rule.object_type, object_id)))
    return rows


def event_kwargs_parse(kwargs: Mapping[str, Any]) -> Event:
    occurred = kwargs.get("occurred_at")
    return Event(
        name=kwargs["event"],
        object_type=kwargs["object_type"],
        object_id=int(kwargs["object_id"]),
        key=kwargs["key"],
        changed=tuple(kwargs.get("changed") or ()),
        source=kwargs.get("source") or "",
        depth=int(kwargs.get("depth") or 0),
        occurred_at=datetime.fromisoformat(occurred) if occurred else timezone.now(),
    )


def triggers_of(rules: Sequence[CompiledRule]) -> set[str]:
    return {rule.trigger for rule in rules if rule.trigger in TRIGGERS_BY_KEY}
