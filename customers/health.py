"""Customer health: a 0–100 score per company, explained by its drivers, kept as a daily history.

How the score is made (the weights live here and nowhere else):

    score = NEUTRAL (50) + the points of every driver, clamped to 0–100.

Each driver gives points for or against, with a sentence saying why. A driver without data gives 0 points and says
"not enough data": a company we know nothing about sits at the neutral 50 in the "not enough data" band, rather than
looking healthy or sick on no evidence. The most a driver can take away is more than it can give, because a support
team acts on trouble: one bad signal (a surge of tickets, angry customers) should move a company out of "healthy"
even when the rest is fine, while good signals only confirm a relationship that is already quiet.

    driver          window                         for (max)   against (max)  why
    ticket volume   last 30 d vs previous 90 d     +5          -20            a surge against the company's own
                    (rate per 30 days)                                        usual rate means something broke
    sentiment       AI tone of tickets, 30 d        +10         -15            what customers feel, and whether it
                    (trend against previous 90 d)                             is getting worse
    SLA breaches    last 30 d                      +5          -15            promises we broke them, each one
    CSAT            last 90 d                      +15         -20            the customer's own verdict: the
                    (mean of answers, 1–5)                                    strongest signal, damped under 3 answers
    open urgent     open now                       +5          -15            a fire burning right now
    last contact    days since the latest ticket   +5          -10            silence for months is disengagement
                    or message, either side
    plan / usage    (billing, not yet)             —           —              a hook: PLAN_USAGE_DRIVERS below

Bands: healthy from 65, critical under 40, at risk between; "not enough data" when no driver has any.

Reads come from the helpdesk through its facade, one aggregate query per driver for a batch of companies, so the
job's statements grow with the number of batches, not of companies (bench/customer_health.py: 10,000 companies).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from core.changes import event_send_on_commit
from helpdesk import facade as helpdesk

from . import live
from .contracts import HEALTH_DROPPED, automation_event
from .models import Customer, HealthBand, HealthSnapshot

NEUTRAL = 50
HEALTHY_FROM = 65
CRITICAL_UNDER = 40
RECENT_DAYS = 30  # "now": ticket volume, sentiment, SLA breaches
BASELINE_DAYS = 90  # the company's own usual, just before the recent window
CSAT_DAYS = 90  # surveys are rarer than tickets: a longer window
# A score this many points lower than before is a drop automation rules hear of (customer.health_dropped).
HEALTH_DROP_POINTS = 10
BATCH_SIZE = 1000  # companies per set of queries: large enough to amortise them, small enough for memory

# Plan and usage come with billing: a provider takes (customer ids, at) and answers {customer id: Driver} for the
# companies it knows; billing registers it here (from its AppConfig.ready) and the score includes it with no other
# change. Nothing is registered until then: no made-up usage.
PLAN_USAGE_DRIVERS: list[Callable[[Sequence[int], datetime], dict[int, Driver]]] = []


@dataclass(frozen=True)
class Driver:
    """One reason behind a score: its points (+ helps, − hurts), a short value and a sentence for people."""

    key: str
    label: str
    points: int
    value: str
    explanation: str
    has_data: bool = True

    def as_json(self) -> dict:
        # By hand: dataclasses.asdict deep-copies every value, a tenth of the job's time at 10,000 companies.
        return {
            "key": self.key,
            "label": self.label,
            "points": self.points,
            "value": self.value,
            "explanation": self.explanation,
            "has_data": self.has_data,
        }


@dataclass(frozen=True)
class Health:
    customer_id: int
    score: int
    band: str
    drivers: tuple[Driver, ...]

    def drivers_json(self) -> list[dict]:
        return [driver.as_json() for driver in self.drivers]


def _no_data(key: str, label: str, why: str = "Not enough data yet.") -> Driver:
    return Driver(key=key, label=label, points=0, value="—", explanation=why, has_data=False)


# --- Drivers: pure functions of what the helpdesk answered ---------------------------------------------------


def volume_driver(volume) -> Driver:
    label = "Ticket volume"
    if volume is None or (volume.recent == 0 and volume.baseline == 0):
        return _no_data("volume", label, "No tickets in the last 120 days.")
    if volume.baseline == 0:
        return _no_data("volume", label, f"{volume.recent} tickets in 30 days, and no earlier ones to compare with.")
    usual = volume.baseline * RECENT_DAYS / BASELINE_DAYS
    # +1 on both sides: one ticket against a usual 0.3 is not a tripling.
    ratio = (volume.recent + 1) / (usual + 1)
    if ratio <= 1:
        points = 5
    elif ratio <= 1.5:
        points = 0
    else:
        points = -min(20, round(10 * (ratio - 1)))
    trend = "steady or calmer than usual" if ratio <= 1 else "more than usual" if ratio <= 1.5 else "a surge"
    sentence = f"{volume.recent} tickets in the last 30 days against a usual {usual:.1f} per 30 days: {trend}."
    return Driver("volume", label, points, f"{ratio:.1f}×", sentence)


def _mood(positive: int, neutral: int, negative: int) -> tuple[float, int]:
    total = positive + neutral + negative
    return ((positive - negative) / total if total else 0.0), total


def sentiment_driver(counts) -> Driver:
    label = "Sentiment"
    if counts is None:
        return _no_data("sentiment", label, "No analysed tickets in the last 120 days.")
    mood, analysed = _mood(counts.recent_positive, counts.recent_neutral, counts.recent_negative)
    if not analysed:
        return _no_data("sentiment", label, "No analysed tickets in the last 30 days.")
    before, earlier = _mood(counts.baseline_positive, counts.baseline_neutral, counts.baseline_negative)
    trend = max(-1.0, min(1.0, mood - before)) if earlier else 0.0
    points = max(-15, min(10, round(8 * mood + 5 * trend)))
    sentence = (
        f"{counts.recent_negative} of {analysed} analysed tickets negative, {counts.recent_positive} positive in the "
        f"last 30 days (mood {mood:+.2f}" + (f", was {before:+.2f})." if earlier else ").")
    )
    return Driver("sentiment", label, points, f"{mood:+.2f}", sentence)


def sla_driver(breached: int, recent_tickets: int) -> Driver:
    label = "SLA breaches"
    if breached:
        return Driver(
            "sla",
            label,
            -min(15, 5 * breached),
            str(breached),
            f"{breached} tickets missed an SLA target in the last 30 days.",
        )
    if not recent_tickets:
        return _no_data("sla", label, "No tickets in the last 30 days: no SLA to keep.")
    return Driver("sla", label, 5, "0", f"Every SLA target met on {recent_tickets} tickets in the last 30 days.")


def csat_driver(csat) -> Driver:
    label = "CSAT"
    if csat is None or not csat.answers:
        return _no_data("csat", label, "No satisfaction survey answered in the last 90 days.")
    raw = max(-20.0, min(15.0, (csat.average - 3.5) * 10))
    confidence = min(1.0, csat.answers / 3)  # one grumpy answer is not a verdict
    sentence = f"Average rating {csat.average:.1f} / 5 from {csat.answers} answers in the last 90 days."
    return Driver("csat", label, round(raw * confidence), f"{csat.average:.1f}/5", sentence)


def urgent_driver(urgent: int, any_tickets: bool) -> Driver:
    label = "Open urgent tickets"
    if urgent:
        return Driver("urgent", label, -min(15, 8 * urgent), str(urgent), f"{urgent} urgent tickets open now.")
    if not any_tickets:
        return _no_data("urgent", label, "No tickets in the last 120 days.")
    return Driver("urgent", label, 5, "0", "No urgent ticket open.")


def contact_driver(last: datetime | None, at: datetime) -> Driver:
    label = "Last contact"
    if last is None:
        return _no_data("contact", label, "No ticket or message yet.")
    days = max(0, (at - last).days)
    points = 5 if days <= 30 else 0 if days <= 60 else -5 if days <= 120 else -10
    return Driver("contact", label, points, f"{days} d", f"Last ticket or message {days} days ago.")


def health_score(customer_id: int, drivers: Iterable[Driver]) -> Health:
    drivers = tuple(drivers)
    if not any(driver.has_data for driver in drivers):
        return Health(customer_id, NEUTRAL, HealthBand.UNKNOWN, drivers)
    score = max(0, min(100, NEUTRAL + sum(driver.points for driver in drivers)))
    return Health(customer_id, score, band_for(score), drivers)


def band_for(score: int) -> str:
    if score >= HEALTHY_FROM:
        return HealthBand.HEALTHY
    return HealthBand.AT_RISK if score >= CRITICAL_UNDER else HealthBand.CRITICAL


# --- Reading a batch ---------------------------------------------------------------------------------------


def health_batch(customer_ids: Sequence[int], *, at: datetime) -> list[Health]:
    """The health of these companies as of `at`: one helpdesk query per driver, whatever the batch's size."""
    windows = {"at": at, "recent_days": RECENT_DAYS, "baseline_days": BASELINE_DAYS}
    volumes = helpdesk.customer_ticket_volumes(customer_ids, **windows)
    sentiments = helpdesk.customer_sentiment_counts(customer_ids, **windows)
    breaches = helpdesk.customer_sla_breaches(customer_ids, at=at, days=RECENT_DAYS)
    csats = helpdesk.customer_csat(customer_ids, at=at, days=CSAT_DAYS)
    urgent = helpdesk.customer_open_urgent(customer_ids, at=at)
    contacts = helpdesk.customer_last_contact(customer_ids, at=at)
    extra = [provider(customer_ids, at) for provider in PLAN_USAGE_DRIVERS]
    results = []
    for customer_id in customer_ids:
        volume = volumes.get(customer_id)
        drivers = [
            volume_driver(volume),
            sentiment_driver(sentiments.get(customer_id)),
            sla_driver(breaches.get(customer_id, 0), volume.recent if volume else 0),
            csat_driver(csats.get(customer_id)),
            urgent_driver(urgent.get(customer_id, 0), volume is not None),
            contact_driver(contacts.get(customer_id), at),
            *(answers[customer_id] for answers in extra if customer_id in answers),
        ]
        results.append(health_score(customer_id, drivers))
    return results


# --- Writing ---------------------------------------------------------------------------------------------


def customer_health_analyze(
    *, customer_ids: Sequence[int] | None = None, at: datetime | None = None, batch_size: int | None = None
) -> int:
    """Scores the companies (all of them by default) as of `at` (now by default), a batch at a time: upserts each
    one's snapshot of that day and, for "now", its current score on the Customer row. Returns how many were scored.

    Three statements a batch besides the helpdesk's six: the ids, the snapshot upsert, the customer update; each
    batch commits on its own, so a long run holds no lock for long and a failure loses one batch at most.

    A recompute of named companies (after a ticket event) tells their open pages when their health changed
    (customers.live); the sweep of every company does not: a push per changed company cost 1.8 ms (load 9 on two
    cores, bench/company_live_pushes.py), 18 s of a 10,000-company run, for scores that moved because time passed."""
    from . import churn  # churn builds on this module

    at = at or timezone.now()
    current = at >= timezone.now() - timedelta(minutes=5)
    scored = 0
    for ids in _id_batches(customer_ids, batch_size or BATCH_SIZE):
        results = health_batch(ids, at=at)
        drivers = [json.dumps(r.drivers_json()) for r in results]
        with transaction.atomic():
            _snapshots_upsert(results, drivers, at)
            if current:
                changed = _customers_update(results, drivers, at)
                if customer_ids is not None:
                    live.company_health_changed(changed)
                churn.churn_risk_update(results, at)  # the same batch's churn risk (customers/churn.py)
        scored += len(results)
    return scored


def _id_batches(customer_ids: Sequence[int] | None, batch_size: int) -> Iterable[list[int]]:
    if customer_ids is not None:
        # Only companies that still exist: an event's company may have been deleted before its task ran.
        ids = sorted(Customer.objects.filter(pk__in=set(customer_ids)).values_list("pk", flat=True))
        for start in range(0, len(ids), batch_size):
            yield ids[start : start + batch_size]
        return
    last = 0
    while True:  # keyset over ids: each batch one index range, however many companies
        ids = list(Customer.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _snapshots_upsert(results: list[Health], drivers: list[str], at: datetime) -> None:
    """One INSERT … ON CONFLICT for the batch: the ORM's bulk_create spent more time building 1,000 rows than the
    database spent writing them."""
    table = connection.ops.quote_name(HealthSnapshot._meta.db_table)
    sql = (
        f"INSERT INTO {table} (customer_id, day, at, score, band, drivers) "
        "SELECT v.id, %s, %s, v.score, v.band, v.drivers "
        "FROM unnest(%s::int[], %s::int[], %s::text[], %s::jsonb[]) AS v(id, score, band, drivers) "
        f"JOIN {connection.ops.quote_name(Customer._meta.db_table)} AS c ON c.id = v.id "  # deleted meanwhile: skipped
        "ON CONFLICT (customer_id, day) DO UPDATE "
        "SET at = EXCLUDED.at, score = EXCLUDED.score, band = EXCLUDED.band, drivers = EXCLUDED.drivers"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.localdate(at), at, *_columns(results, drivers)])


def _customers_update(results: list[Health], drivers: list[str], at: datetime) -> list[int]:
    """One UPDATE … FROM unnest(…) for the whole batch: bulk_update's CASE per row costs far more at 1,000 rows.
    Rows whose score, band and drivers are unchanged are skipped: every customer index takes a new entry per updated
    row, and most runs of a day change nothing. It leaves `updated` alone: a new score is not an edit of the company.
    Returns the ids of the companies whose health changed (their open pages are told, customers.live)."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    sql = (
        f"UPDATE {table} AS c SET health_score = v.score, health_band = v.band, health_drivers = v.drivers, "
        "health_updated = %s FROM unnest(%s::int[], %s::int[], %s::text[], %s::jsonb[]) AS v(id, score, band, drivers) "
        f"JOIN {table} AS old ON old.id = v.id "
        "WHERE c.id = v.id "
        "AND (c.health_score, c.health_band, c.health_drivers) IS DISTINCT FROM (v.score, v.band, v.drivers) "
        "RETURNING c.id, old.health_score, v.score"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [at, *_columns(results, drivers)])
        rows = cursor.fetchall()
    for customer_id, before, after in rows:
        # A drop automation rules can act on (customers.contracts.automation_event); the first score is no drop.
        if before is not None and after is not None and before - after >= HEALTH_DROP_POINTS:
            event_send_on_commit(
                automation_event, event=HEALTH_DROPPED, object_id=customer_id, changed=("health_score",)
            )
    return [row[0] for row in rows]


def _columns(results: list[Health], drivers: list[str]) -> list[list]:
    return [[r.customer_id for r in results], [r.score for r in results], [str(r.band) for r in results], drivers]


def customer_health_backfill(*, days: int, customer_ids: Sequence[int] | None = None, until: date | None = None) -> int:
    """Snapshots for each of the last `days` days (as of each day's end), from the data as it stands: the demo's
    history chart shows what the tickets say, not noise. Then today's score, which also sets the current one."""
    until = until or timezone.localdate()
    tz = timezone.get_current_timezone()
    for offset in range(days, 0, -1):
        day = until - timedelta(days=offset)
        end = datetime.combine(day, datetime.max.time(), tzinfo=tz).replace(microsecond=0)
        customer_health_analyze(customer_ids=customer_ids, at=end)
    return customer_health_analyze(customer_ids=customer_ids)


# --- After a ticket event: one recompute per burst -------------------------------------------------------

DEBOUNCE_SECONDS = 300  # at most this stale if a queued task is lost; the beat job catches up anyway


def _debounce_key(customer_id: int) -> str:
    return f"customers:health:queued:{customer_id}"  # the cache adds the workspace's schema (make_key)


def health_refresh_soon(customer_id: int) -> bool:
    """Queues one recompute of this company, unless one is already queued and has not started: a burst of events
    (a ticket created, replied, solved and rated within a minute) costs one run, which sees them all since it reads
    after them. False when one was already queued."""
    from django.core.cache import cache

    from core.outbox import enqueue

    if not cache.add(_debounce_key(customer_id), 1, DEBOUNCE_SECONDS):
        return False
    enqueue("customers.tasks.customer_health_refresh_task", customer_id)
    return True


def health_debounce_release(customer_id: int) -> None:
    from django.core.cache import cache

    cache.delete(_debounce_key(customer_id))
