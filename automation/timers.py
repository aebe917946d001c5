"""Time rules, checked by beat: "pending for 3 days", "no reply for 24 business hours", "urgent and unassigned for
30 minutes".

A time rule's timer runs from one timestamp of the ticket (its anchor: created, last changed, solved, the
customer's unanswered message). Each pass reads only the tickets whose anchor crossed the threshold since the rule's
last pass (`Rule.checked_through` → now − timer), one indexed range with the rule's simple "is" conditions in SQL,
in batches; the remaining conditions are tested in memory. The ledger key is the anchor time, so a ticket fires once
per anchor: a pending ticket that is changed and left pending again fires again three days later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from helpdesk.facade import automation as helpdesk_automation

from .catalog import TICKET, TIME_TRIGGER
from .compiled import CompiledRule, rules_for
from .conditions import Facts, sql_filters
from .engine import _claim, rule_fire
from .models import Rule
from .sources import business_open, values_for

logger = logging.getLogger(__name__)

BATCH = 500
MAX_BATCHES = 40  # per rule and pass: 20,000 tickets; the rest waits for the next pass
# Firings per rule and pass: a rule enabled over a backlog (2,000 tickets pending for weeks) works through it over
# a few passes instead of holding one pass for minutes; its cursor stops at the last ticket it handled.
MAX_FIRINGS = 200


@dataclass(frozen=True)
class TimerPass:
    rules: int
    examined: int
    fired: int


def timer_threshold(timer: dict, now: datetime) -> datetime:
    """The anchor time at or before which a ticket's timer has run out."""
    amount = float(timer.get("amount") or 0)
    unit = timer.get("unit") or "hours"
    if unit == "business_hours":
        return helpdesk_automation.business_hours_ago(hours=amount, now=now)
    return now - timedelta(**{unit: amount})


def time_rules_check(*, now: datetime | None = None) -> TimerPass:
    """One beat pass over this workspace's enabled time rules."""
    now = now or timezone.now()
    rules = rules_for(TIME_TRIGGER)
    examined = fired = 0
    for rule in rules:
        try:
            seen, count = _rule_pass(rule, now)
        except Exception:  # one broken rule must not stop the others
            logger.exception("time rule %s failed", rule.id)
            continue
        examined += seen
        fired += count
    return TimerPass(rules=len(rules), examined=examined, fired=fired)


def _rule_pass(rule: CompiledRule, now: datetime) -> tuple[int, int]:
    anchor = rule.timer.get("anchor") or "created"
    threshold = timer_threshold(rule.timer, now)
    after = Rule.objects.filter(pk=rule.id).values_list("checked_through", flat=True).first()
    if after is not None and after >= threshold:
        return 0, 0
    filters = sql_filters(rule.conditions, helpdesk_automation.TIMER_FILTERS)
    examined = fired = 0
    cursor = after
    for _ in range(MAX_BATCHES):
        candidates = helpdesk_automation.ticket_timer_candidates(
            anchor=anchor, threshold=threshold, after=cursor, filters=filters, limit=BATCH
        )
        count, handled_through = _fire_batch(rule, candidates, now, budget=MAX_FIRINGS - fired)
        fired += count
        if handled_through is not None:  # the firing budget ran out inside this batch
            examined += sum(1 for _id, anchored in candidates if anchored <= handled_through)
            cursor = handled_through
            break
        examined += len(candidates)
        if len(candidates) < BATCH:
            cursor = threshold
            break
        cursor = candidates[-1][1]
    Rule.objects.filter(pk=rule.id).update(checked_through=cursor)
    return examined, fired


def _fire_batch(
    rule: CompiledRule, candidates: list[tuple[int, datetime]], now: datetime, *, budget: int
) -> tuple[int, datetime | None]:
    """Fires the rule on the candidates that match; (how many fired, None) or, when `budget` ran out, the anchor of
    the last candidate handled (the next pass starts after it)."""
    if not candidates:
        return 0, None
    values = values_for(TICKET, [ticket_id for ticket_id, _anchor in candidates], now=now, fields=sorted(rule.fields))
    fired = 0
    for ticket_id, anchored in candidates:
        record = values.get(ticket_id)
        if record is None or not rule.predicate(Facts(record, frozenset(), at=now, business_open=business_open)):
            continue
        if not _claim(rule, object_type=TICKET, object_id=ticket_id, period_key=anchored.isoformat()):
            continue
        rule_fire(rule, event=TIME_TRIGGER, object_type=TICKET, object_id=ticket_id, record=record)
        fired += 1
        if fired >= budget:
            return fired, anchored
    return fired, None
