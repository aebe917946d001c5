"""Rollups: what every ticket, lead, quote and AI run adds to the daily counters metrics read, kept incrementally from
events and repaired nightly from the source apps' facades.

Design
- One generic table, `DailyRollup(metric, day, team_id, agent_id, category_id, channel, priority, tier, label,
  bucket) -> count, total`. Sentinels (0, "", -1) instead of NULL so `INSERT … ON CONFLICT DO UPDATE` finds one row
  per key. `total` is an integer sum (seconds, cents, micro-dollars, a rating): integer sums are exact in any order,
  which floating sums are not, so an incremental history can equal a recount to the unit.
- Grains: every counter is written at several grains (models.GRAINS): "detail" keeps all dimensions (at 100k
  tickets a year that is about one row per ticket and event: no faster to read than the tickets), "all" none, and
  one grain per dimension. A query reads the coarsest grain with the dimensions it filters and groups by
  (insights/metrics.py), so an unfiltered year reads a few thousand rows; two filters at once fall back to
  "detail". The ledger keeps detail keys only; the grains are derived when writing (`expand()` for the repair, the
  same mapping in SQL for an event), so one event is still one upsert (its five or so detail keys × nine grains).
- Percentiles come from `bucket`: durations go into fixed log-scale buckets (4 per doubling of minutes, ±9%
  around a bucket's middle), which add up across days and dimensions like any counter (insights/histograms.py).
- A source row's contributions are a pure function of its current state (`contributions(kind, fact)`). The ledger
  (`RollupSource`) keeps what each row last added; an event recomputes the row's contributions and, in one
  statement, applies `new − old` to the counters and stores `new`. A ticket moving team, reopening or losing its CSAT
  answer therefore moves its counts exactly, and a recount (the sum of every row's contributions) equals the
  incremental state by construction — which tests/test_rollups.py checks on a varied history.
- Events: the apps send `tickets_changed`, `leads_changed`, `quotes_changed`, `runs_changed` (their contracts)
  from post_save/post_delete inside the writer's transaction (core.changes); insights queues
  `rollups_refresh_task` on the outbox, so upkeep commits with the change and never runs in the request.
- Repair (nightly, and `manage.py rollups_repair --days 365`): recompute every source touched since the window's
  first day, replace the window's rollup rows with their sum, and apply old→new deltas to the days before the
  window, so the whole table stays equal to the ledger's sum. Queryset `.update()`, `bulk_create`, a customer's
  tier change (not an event of the ticket) are caught there.

Dimensions by source: tickets use them all (agent = assignee); leads agent = owner, channel = source, label =
currency; quotes agent = owner, label = currency; AI runs channel = provider, label = feature. Days are calendar
days in settings.TIME_ZONE. A day's figure counts the event on that day: tickets created, first replies, solutions
(by the day solved), CSAT answers; SLA tracking and breaches count on the ticket's creation day.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min

from ai import facade as ai_facade
from helpdesk import facade as helpdesk_facade
from leads import facade as leads_facade
from quotes import facade as quotes_facade

from .histograms import bucket_of
from .models import DIMENSIONS, GRAINS, NO_BUCKET, DailyRollup, RollupSource

TICKET, LEAD, QUOTE, AI_RUN = "ticket", "lead", "quote", "ai_run"
KINDS = (TICKET, LEAD, QUOTE, AI_RUN)
REPAIR_LOCK = 7100
_LOCK_SPACE = {TICKET: 7101, LEAD: 7102, QUOTE: 7103, AI_RUN: 7104}  # advisory-lock namespaces, one per kind

# (day, metric, team_id, agent_id, category_id, channel, priority, tier, label, bucket)
Key = tuple[str, str, int, int, int, str, str, str, str, int]
Deltas = dict[Key, list[int]]  # key -> [count, total]; a stored key has the grain in front
KEY_COLUMNS = ("grain", "day", "metric", *DIMENSIONS)
_SENTINELS = (0, 0, 0, "", "", "", "")  # team_id … label when a grain drops them
_KEPT = {grain: tuple(DIMENSIONS.index(name) for name in kept) for grain, kept in GRAINS.items()}


def _day(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date().isoformat()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


@dataclass(frozen=True)
class _Dims:
    team_id: int = 0
    agent_id: int = 0
    category_id: int = 0
    channel: str = ""
    priority: str = ""
    tier: str = ""
    label: str = ""

    def key(self, day: str, metric: str, bucket: int = NO_BUCKET) -> Key:
        return (day, metric, self.team_id, self.agent_id, self.category_id, self.channel, self.priority, self.tier,
                self.label, bucket)  # fmt: skip


def _ticket(fact) -> Iterator[tuple[Key, int, int]]:
    dims = _Dims(fact.team_id or 0, fact.assignee_id or 0, fact.category_id or 0, fact.channel, fact.priority,
                 fact.customer_tier)  # fmt: skip
    created = _day(fact.created)
    yield dims.key(created, "created"), 1, 0
    if fact.sla_tracked:
        yield dims.key(created, "sla_tracked"), 1, 0
        if fact.sla_breached:
            yield dims.key(created, "sla_breached"), 1, 0
    if fact.first_responded_at is not None:
        seconds = _seconds(fact.created, fact.first_responded_at)
        yield dims.key(_day(fact.first_responded_at), "first_response", bucket_of(seconds)), 1, seconds
    if fact.status in ("solved", "closed") and fact.solved_at is not None:
        seconds = _seconds(fact.created, fact.solved_at)
        yield dims.key(_day(fact.solved_at), "solved", bucket_of(seconds)), 1, seconds
    if fact.csat_rating is not None and fact.csat_answered_at is not None:
        yield dims.key(_day(fact.csat_answered_at), "csat", fact.csat_rating), 1, fact.csat_rating


def _lead(fact) -> Iterator[tuple[Key, int, int]]:
    dims = _Dims(agent_id=fact.owner_id or 0, channel=fact.source, label=fact.currency)
    yield dims.key(_day(fact.created), "lead_created"), 1, fact.value_cents
    if fact.stage_kind == "won" and fact.won_at is not None:
        seconds = _seconds(fact.created, fact.won_at)
        yield dims.key(_day(fact.won_at), "lead_won"), 1, fact.value_cents
        yield dims.key(_day(fact.won_at), "lead_cycle", bucket_of(seconds)), 1, seconds
    if fact.stage_kind == "lost" and fact.lost_at is not None:
        yield dims.key(_day(fact.lost_at), "lead_lost"), 1, fact.value_cents


def _quote(fact) -> Iterator[tuple[Key, int, int]]:
    dims = _Dims(agent_id=fact.owner_id or 0, label=fact.currency)
    yield dims.key(_day(fact.created), "quote_created"), 1, fact.total_cents
    if fact.sent_at is not None:
        yield dims.key(_day(fact.sent_at), "quote_sent"), 1, fact.total_cents
    if fact.status in ("accepted", "declined", "expired") and fact.closed_at is not None:
        closed = _day(fact.closed_at)
        yield dims.key(closed, f"quote_{fact.status}"), 1, fact.total_cents
        if fact.status != "expired":  # an expiry is the absence of an answer: no cycle (as quotes/metrics.py)
            seconds = _seconds(fact.created, fact.closed_at)
            yield dims.key(closed, "quote_cycle", bucket_of(seconds)), 1, seconds


def _ai_run(fact) -> Iterator[tuple[Key, int, int]]:
    dims = _Dims(channel=fact.provider, label=fact.feature[:80])
    day = _day(fact.created)  # feedback counts on its run's day: acceptance of the runs of a period
    yield dims.key(day, "ai_run"), 1, fact.cost_micro_usd
    if fact.status in ("error", "blocked"):
        yield dims.key(day, "ai_failed"), 1, 0
    for metric, count in (("ai_accepted", fact.accepted), ("ai_edited", fact.edited), ("ai_rejected", fact.rejected)):
        if count:
            yield dims.key(day, metric), count, 0
    if fact.edit_distance_count:
        yield dims.key(day, "ai_edit_distance"), fact.edit_distance_count, fact.edit_distance_sum


CONTRIBUTORS: dict[str, Callable[[Any], Iterator[tuple[Key, int, int]]]] = {
    TICKET: _ticket,
    LEAD: _lead,
    QUOTE: _quote,
    AI_RUN: _ai_run,
}
FACTS: dict[str, Callable[..., Iterator[Any]]] = {
    TICKET: helpdesk_facade.ticket_rollup_facts,
    LEAD: leads_facade.lead_rollup_facts,
    QUOTE: quotes_facade.quote_rollup_facts,
    AI_RUN: ai_facade.run_rollup_facts,
}


def contributions(kind: str, fact: Any) -> list[list]:
    """The rows `fact` adds, merged by key, as the ledger stores them: [*key, count, total]."""
    merged: Deltas = {}
    for key, count, total in CONTRIBUTORS[kind](fact):
        _add(merged, key, count, total)
    return [[*key, count, total] for key, (count, total) in merged.items()]


def _add(deltas: Deltas, key: Key, count: int, total: int) -> None:
    entry = deltas.get(key)
    if entry is None:
        deltas[key] = [count, total]
    else:
        entry[0] += count
        entry[1] += total


def _add_all(deltas: Deltas, rows: Iterable[list], sign: int, *, before: str | None = None) -> None:
    for row in rows:
        if before is None or row[0] < before:
            _add(deltas, tuple(row[:10]), sign * row[10], sign * row[11])  # type: ignore[arg-type]


def _last_day(rows: list[list]) -> str | None:
    return max((row[0] for row in rows), default=None)


def expand(deltas: Deltas) -> Deltas:
    """Detail keys to the keys of every grain (models.GRAINS): the coarse grains sum the detail rows they cover."""
    result: Deltas = {}
    for key, (count, total) in deltas.items():
        day, metric, *dims = key
        bucket = dims[-1]
        for grain, kept in _KEPT.items():
            values = [dims[i] if i in kept else _SENTINELS[i] for i in range(7)]
            _add(result, (grain, day, metric, *values, bucket), count, total)  # type: ignore[arg-type]
    return result


# --- incremental upkeep ---------------------------------------------------------------------------------------


def rollups_refresh(*, kind: str, ids: Iterable[int]) -> int:
    """Brings the rollups in line with the current state of these source rows (an event): applies each row's new
    contributions minus those in the ledger and stores the new ones. Five round trips (BEGIN, the locks, the facts,
    one write statement, COMMIT; there were eight). Idempotent; returns the number of counters moved."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    own_transaction = not connection.in_atomic_block  # a worker's task; one it joins is not its to tune
    with transaction.atomic():
        _lock(kind, ids, own_transaction=own_transaction)
        # The facts are read after the lock: a worker that waited for another one's event on the same row sees its
        # result, never an older state it would then store over it.
        fresh = [[fact.id, contributions(kind, fact)] for fact in FACTS[kind](ids=ids)]
        with _prepared_cursor() as cursor:
            cursor.execute(_REFRESH, {"kind": kind, "ids": ids, "fresh": json.dumps(fresh, separators=(",", ":"))})
            return cursor.rowcount


@contextmanager
def _prepared_cursor() -> Iterator[Any]:
    """A cursor that binds parameters on the server and prepares each statement on its first run in a session
    (psycopg keeps the prepared ones per connection and drops them after a rollback): planning the refresh statement
    costs about what running it does. Django turns psycopg's preparing off for the whole connection (its cursors
    bind on the client, `prepare_threshold` None); it is on only while this cursor runs. A prepared statement
    follows the session's search_path, so one serves every workspace (the caller's first statement has set it).

    While Django logs queries (DEBUG, tests counting them), statements run unprepared: psycopg does not keep a
    prepared execution's text, and the log would show None."""
    connection.ensure_connection()
    raw = connection.connection
    if connection.queries_logged:
        with connection.make_debug_cursor(psycopg.Cursor(raw)) as cursor:
            yield cursor
        return
    threshold, raw.prepare_threshold = raw.prepare_threshold, 0
    try:
        with connection.make_cursor(psycopg.Cursor(raw)) as cursor:
            yield cursor
    finally:
        raw.prepare_threshold = threshold


def _lock(kind: str, ids: list[int], *, own_transaction: bool) -> None:
    """Serialises upkeep of the same rows (two workers on one ticket would both subtract the same old ledger), after
    a running repair: the shared lock first, then the rows' in id order, so two events never wait on each other in
    opposite orders (one statement: volatile output expressions are evaluated after ORDER BY).

    In its own transaction (a worker's task), the same statement sets two things for that transaction only. Its
    commit does not wait for the WAL to reach the disk (a flush costs more than the rest of an event): the rollups
    are derived data, a crash can only lose the last fraction of a second of upkeep as a whole (ledger and counters
    together, never one without the other), and the nightly repair recomputes the sources changed since. And the
    prepared refresh statement runs its generic plan (the server would otherwise re-plan it each time, for the same
    plan)."""
    tuned = ["off", "force_generic_plan"] if own_transaction else [None, None]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('synchronous_commit', coalesce(%s, current_setting('synchronous_commit')), true), "
            "set_config('plan_cache_mode', coalesce(%s, current_setting('plan_cache_mode')), true), "
            "CASE WHEN x IS NULL THEN pg_advisory_xact_lock_shared(%s) "
            "ELSE pg_advisory_xact_lock(%s, (x %% 2147483647)::int) END "
            "FROM (SELECT NULL::bigint UNION ALL SELECT unnest(%s::bigint[])) AS ids (x) ORDER BY x NULLS FIRST",
            [*tuned, REPAIR_LOCK, _LOCK_SPACE[kind], ids],
        )


def _ledger_save(kind: str, rows: list[RollupSource], *, gone: list[int]) -> None:
    if rows:
        RollupSource.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["kind", "source_id"],
            update_fields=["contributions", "last_day", "updated"],
        )
    if gone:
        RollupSource.objects.filter(kind=kind, source_id__in=gone).delete()


_UPSERT = (
    f"INSERT INTO {DailyRollup._meta.db_table} ({', '.join(KEY_COLUMNS)}, count, total) VALUES {{values}} "
    f"ON CONFLICT (grain, metric, day, {', '.join(DIMENSIONS)}) DO UPDATE SET "
    "count = {table}.count + EXCLUDED.count, total = {table}.total + EXCLUDED.total"
)


def _refresh_sql() -> str:
    """One event's write, in one statement: the sources' ledger rows before it (`old`, read under the rows' locks,
    so nobody else changes them) and their new contributions (`fresh`, the JSON the caller computed) become signed
    detail rows, expanded to every grain (models.GRAINS) and summed per counter; the non-zero sums are added to the
    counters in key order, and the ledger is replaced by `fresh` (rows gone from the source app are dropped). Every
    part of a statement sees the tables as they were before it, so `old` is the ledger before this write."""
    source, rollup = RollupSource._meta.db_table, DailyRollup._meta.db_table
    grains = ", ".join(
        f"('{grain}', {', '.join('true' if index in kept else 'false' for index in range(7))})"
        for grain, kept in _KEPT.items()
    )
    casts = ("int", "int", "int", "text", "text", "text", "text")
    dimensions = ", ".join(
        f"CASE WHEN g.keeps_{name} THEN (c->>{index + 2})::{cast} ELSE {_sql_literal(_SENTINELS[index])} END"
        for index, (name, cast) in enumerate(zip(DIMENSIONS[:7], casts, strict=True))
    )
    keys = ", ".join(KEY_COLUMNS)
    flags = ", ".join(f"keeps_{name}" for name in DIMENSIONS[:7])
    return f"""
WITH fresh AS (
    SELECT (p->>0)::bigint AS source_id, p->1 AS contributions
    FROM jsonb_array_elements(%(fresh)s::jsonb) AS p
), old AS (
    SELECT contributions FROM {source} WHERE kind = %(kind)s AND source_id = ANY(%(ids)s::bigint[])
), saved AS (
    INSERT INTO {source} (kind, source_id, contributions, last_day, updated)
    SELECT %(kind)s, source_id, contributions,
           (SELECT max((c->>0)::date) FROM jsonb_array_elements(contributions) AS c), now()
    FROM fresh
    ON CONFLICT (kind, source_id) DO UPDATE
    SET contributions = EXCLUDED.contributions, last_day = EXCLUDED.last_day, updated = EXCLUDED.updated
    WHERE {source}.contributions IS DISTINCT FROM EXCLUDED.contributions  -- a save that changed no count: no write
), dropped AS (
    DELETE FROM {source}
    WHERE kind = %(kind)s AND source_id = ANY(%(ids)s::bigint[]) AND source_id NOT IN (SELECT source_id FROM fresh)
), detail (sign, c) AS (
    SELECT -1, c FROM old, jsonb_array_elements(old.contributions) AS c
    UNION ALL
    SELECT 1, c FROM fresh, jsonb_array_elements(fresh.contributions) AS c
), counters ({keys}, count, total) AS (
    SELECT g.grain, (c->>0)::date, c->>1, {dimensions}, (c->>9)::smallint,
           sum(sign * (c->>10)::bigint)::bigint, sum(sign * (c->>11)::bigint)::bigint
    FROM detail CROSS JOIN (VALUES {grains}) AS g (grain, {flags})
    GROUP BY {", ".join(str(position) for position in range(1, len(KEY_COLUMNS) + 1))}
)
INSERT INTO {rollup} ({keys}, count, total)
SELECT {keys}, count, total FROM counters WHERE count <> 0 OR total <> 0 ORDER BY {keys}
ON CONFLICT (grain, metric, day, {", ".join(DIMENSIONS)}) DO UPDATE
SET count = {rollup}.count + EXCLUDED.count, total = {rollup}.total + EXCLUDED.total
"""


def _sql_literal(value: int | str) -> str:
    return str(value) if isinstance(value, int) else f"'{value}'"


_REFRESH = _refresh_sql()


def _upsert(deltas: Deltas, *, batch: int = 1000) -> int:
    """Adds each (detail) delta to its counters at every grain, creating them when new: one statement per `batch`
    counters; keys in a stable order, so two upserts never lock the same rows in opposite orders."""
    items = sorted((key, value) for key, value in expand(deltas).items() if value[0] or value[1])
    placeholders = "(" + ", ".join(["%s"] * (len(KEY_COLUMNS) + 2)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(items), batch):
            chunk = items[start : start + batch]
            sql = _UPSERT.format(values=", ".join([placeholders] * len(chunk)), table=DailyRollup._meta.db_table)
            cursor.execute(sql, [value for key, (count, total) in chunk for value in (*key, count, total)])
    return len(items)


# --- recount and repair -----------------------------------------------------------------------------------------


def recount(kind: str, *, ids: Iterable[int] | None = None) -> Deltas:
    """The counters every source row of `kind` adds now, at every grain, from scratch (no ledger): what the rollups
    must equal."""
    totals: Deltas = {}
    for fact in FACTS[kind](ids=ids):
        for key, count, total in CONTRIBUTORS[kind](fact):
            _add(totals, key, count, total)
    return expand(totals)


@dataclass(frozen=True)
class RepairReport:
    since: date | None
    sources: int  # source rows recomputed
    counters: int  # rollup rows written in the window


@transaction.atomic
def rollups_repair(*, since: date | None = None) -> RepairReport:
    """Recomputes the rollups from the apps' raw data for the days from `since` (every day without it): the
    window's rows are replaced by the recount of every source touched since then; older days get old→new deltas of
    those sources, so the table stays the ledger's sum. Idempotent."""
    with connection.cursor() as cursor:  # one repair at a time; events wait for it rather than interleave
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REPAIR_LOCK])
        earliest = DailyRollup.objects.aggregate(day=Min("day"))["day"]
        if since is None or earliest is None or since <= earliest:
            # Everything is recomputed anyway: emptying both tables beats deleting a million rows one by one.
            since = None
            cursor.execute(f"TRUNCATE {DailyRollup._meta.db_table}, {RollupSource._meta.db_table}")
    cutoff = since.isoformat() if since is not None else None
    window: Deltas = {}
    older: Deltas = {}
    sources = 0
    for kind in KINDS:
        sources += _repair_kind(kind, since, cutoff, window, older)
    if since is not None:
        DailyRollup.objects.filter(day__gte=since).delete()
        DailyRollup.objects.filter(count=0, total=0).delete()
    counters = _copy(window)
    _upsert(older)
    if counters > 10_000:  # fresh statistics for the planner after a big rewrite, as autovacuum would later
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DailyRollup._meta.db_table}")
    return RepairReport(since=since, sources=sources, counters=counters)


def _repair_kind(kind: str, since: date | None, cutoff: str | None, window: Deltas, older: Deltas) -> int:
    ledger_rows = RollupSource.objects.filter(kind=kind)
    if since is not None:
        ledger_rows = ledger_rows.filter(last_day__gte=since)
    stale = set(ledger_rows.values_list("source_id", flat=True))
    facts = list(FACTS[kind](since=day_start(since) if since is not None else None))
    seen = {fact.id for fact in facts}
    if stale - seen:  # counted in the window by the ledger, untouched since: moved out of it, or deleted
        facts += list(FACTS[kind](ids=stale - seen))
        seen = {fact.id for fact in facts}
    ids = seen | stale
    old: dict[int, list] = {}
    ordered = sorted(ids) if cutoff is not None else []  # a full rebuild emptied the ledger
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        old.update(
            RollupSource.objects.filter(kind=kind, source_id__in=chunk).values_list("source_id", "contributions")
        )
    rows, repaired = [], 0
    for fact in facts:
        new = contributions(kind, fact)
        repaired += 1
        for row in new:
            if cutoff is None or row[0] >= cutoff:
                _add(window, tuple(row[:10]), row[10], row[11])  # type: ignore[arg-type]
        if cutoff is not None:
            _add_all(older, old.get(fact.id, ()), -1, before=cutoff)
            _add_all(older, new, +1, before=cutoff)
        if cutoff is None or old.get(fact.id) != new:  # most ledger rows are right: rewrite only the others
            rows.append(RollupSource(kind=kind, source_id=fact.id, contributions=new, last_day=_last_day(new)))
    gone = sorted(ids - {fact.id for fact in facts})
    for source_id in gone:
        _add_all(older, old.get(source_id, ()), -1, before=cutoff)
    _ledger_save(kind, rows, gone=gone)
    return repaired


def _copy(counters: Deltas) -> int:
    """Writes fresh (detail) counters at every grain with COPY (a year of them in seconds, where INSERTs take a
    minute)."""
    counters = expand(counters)
    buffer = io.StringIO()
    # In key order: a grain's days then lie together on disk, and a year's range reads contiguous pages.
    for key, (count, total) in sorted(counters.items()):
        if count or total:
            buffer.write("\t".join(_copy_text(value) for value in (*key, count, total)) + "\n")
    columns = ", ".join((*KEY_COLUMNS, "count", "total"))
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {DailyRollup._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())
    return len(counters)


def _copy_text(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
