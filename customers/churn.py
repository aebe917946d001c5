"""Churn risk: a per-workspace outcome model ("customers.churn") trained on the companies marked churned, with a
documented heuristic until the workspace has enough of them.

Training rows (`churn_training_data`), one per company, OLDEST FIRST by the moment their features describe:

- a churned company is described as of CUTOFF_DAYS (30) before its `churned_at`: what we could have seen a month
  ahead, nothing later (no leakage: every feature is computed "as of" that moment by customers.health);
- a company still with us is described as of a moment spread deterministically (by its id) over the same span as
  the churned ones' cut-offs (never later than CUTOFF_DAYS ago): if they all sat at "30 days ago", the newest
  fifth (the holdout) would hold no churned company, and their age alone would tell the classes apart.

Features (FEATURES): tier, age in days, contacts count, the health score and its 30-day change, and the health
drivers' measures (ticket volume ratio, sentiment mood, SLA breaches, CSAT average, days since the last contact),
all as of the cut-off. Predictions use the same fields as of now.

The heuristic, until a model is deployed (ai.facade.outcome_predict_many answers None):

    z = (60 − score) / 10 + drop / 10 − 1.5        drop = max(0, score 30 days ago − score now)
    risk = 1 / (1 + e^−z)

so a steady 80 is ~3 %, a steady 60 ~18 %, a 40 that fell 20 points in a month ~92 %. Companies without health
data get no risk (not a made-up one).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from ai import facade as ai

from .health import Health, health_batch
from .models import Contact, Customer, HealthBand, HealthSnapshot

MODEL = "customers.churn"
TITLE = "Churn risk"
CUTOFF_DAYS = 30  # features as of a month before the churn: what we could have acted on
TREND_DAYS = 30
SPREAD_STEP_DAYS = 7  # the still-active companies' cut-offs, to the week: fewer "as of" batches to compute
HEURISTIC = "heuristic"
DRIVER_FIELDS = {"volume": "ticket_volume", "sentiment": "sentiment", "sla": "sla_breaches", "csat": "csat"}
FEATURES = (
    "tier",
    "age_days",
    "contacts",
    "health_score",
    "health_change_30d",
    "ticket_volume",
    "sentiment",
    "sla_breaches",
    "csat",
    "days_since_contact",
)
WORDS = {
    "tier": "Tier",
    "age_days": "Age (days)",
    "contacts": "Contacts",
    "health_score": "Health score",
    "health_change_30d": "Health change in 30 days",
    "ticket_volume": "Ticket volume against usual",
    "sentiment": "Sentiment",
    "sla_breaches": "SLA breaches (30 d)",
    "csat": "CSAT",
    "days_since_contact": "Days since last contact",
}
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _measure(value: str) -> float | None:
    match = _NUMBER.search(value or "")
    return float(match.group()) if match else None


def features(customer: Customer, health: Health, *, previous_score: int | None, at: datetime, contacts: int) -> dict:
    """One company's row as of `at` (the same fields in training and prediction); None marks missing."""
    known = health.band != HealthBand.UNKNOWN
    row: dict[str, Any] = {
        "tier": customer.tier,
        "age_days": max(0, (at - customer.created).days),
        "contacts": contacts,
        "health_score": health.score if known else None,
        "health_change_30d": health.score - previous_score if known and previous_score is not None else None,
    }
    drivers = {driver.key: driver for driver in health.drivers}
    for key, name in DRIVER_FIELDS.items():
        driver = drivers.get(key)
        row[name] = _measure(driver.value) if driver and driver.has_data else None
    contact = drivers.get("contact")
    row["days_since_contact"] = _measure(contact.value) if contact and contact.has_data else None
    return row


# --- The heuristic -----------------------------------------------------------------------------------------


def heuristic(score: int | None, previous_score: int | None) -> tuple[float | None, str]:
    """The documented stand-in (module docstring): risk from the score and its 30-day drop, with the reason."""
    if score is None:
        return None, "Not enough health data to estimate a risk."
    drop = max(0, previous_score - score) if previous_score is not None else 0
    z = (60 - score) / 10 + drop / 10 - 1.5
    risk = 1 / (1 + math.exp(-z))
    reason = f"Health {score}/100" + (f", down {drop} points in 30 days" if drop else ", no drop in 30 days") + "."
    return risk, reason


def heuristic_label() -> str:
    needed = ai.outcome_examples_needed()
    return f"Heuristic until {needed} churned companies (and {needed} still active) train a model."


# --- Training data -----------------------------------------------------------------------------------------


def _cutoffs(customers: Sequence[Customer], now: datetime) -> dict[int, datetime]:
    tz = timezone.get_current_timezone()
    latest = now - timedelta(days=CUTOFF_DAYS)
    cutoffs: dict[int, datetime] = {}
    for customer in customers:
        if customer.churned_at:
            day = customer.churned_at - timedelta(days=CUTOFF_DAYS)
            cutoffs[customer.pk] = min(latest, datetime.combine(day, time.max, tzinfo=tz).replace(microsecond=0))
    # The same span as the churned companies' cut-offs: a wider one would let time itself (age, the newest rows
    # all "stayed") pass for a signal.
    newest = max(cutoffs.values(), default=latest)
    earliest = min(cutoffs.values(), default=latest - timedelta(days=180))
    weeks = max(1, (newest - earliest).days // SPREAD_STEP_DAYS)
    for customer in customers:
        if customer.pk in cutoffs:
            continue
        # Deterministic by id (not random): the same data gives the same rows, hence the same fingerprint.
        digest = int(hashlib.sha256(str(customer.pk).encode()).hexdigest()[:8], 16)
        at = newest - timedelta(days=SPREAD_STEP_DAYS * (digest % (weeks + 1)))
        cutoffs[customer.pk] = max(at, min(newest, customer.created + timedelta(days=CUTOFF_DAYS)))
    return cutoffs


def _contacts_as_of(customer_ids: Sequence[int], at: datetime) -> dict[int, int]:
    rows = (
        Contact.objects.filter(customer_id__in=customer_ids, created__lte=at)
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    return dict(rows)


def rows_as_of(customers: Sequence[Customer], at: datetime) -> list[dict]:
    """The rows of these companies as of `at` (in their order), every feature from before `at`."""
    ids = [customer.pk for customer in customers]
    now = {h.customer_id: h for h in health_batch(ids, at=at)}
    before = {h.customer_id: h for h in health_batch(ids, at=at - timedelta(days=TREND_DAYS))}
    contacts = _contacts_as_of(ids, at)
    rows = []
    for customer in customers:
        earlier = before[customer.pk]
        previous = earlier.score if earlier.band != HealthBand.UNKNOWN else None
        rows.append(
            features(customer, now[customer.pk], previous_score=previous, at=at, contacts=contacts.get(customer.pk, 0))
        )
    return rows


def training_examples(*, now: datetime | None = None) -> list[tuple[datetime, int, dict, bool]]:
    """(cut-off, company id, features as of the cut-off, churned?) for every company, oldest cut-off first."""
    now = now or timezone.now()
    customers = list(Customer.objects.only("id", "tier", "created", "churned_at").order_by("id"))
    cutoffs = _cutoffs(customers, now)
    groups: dict[datetime, list[Customer]] = defaultdict(list)
    for customer in customers:
        if customer.created <= cutoffs[customer.pk]:  # a company younger than its cut-off has nothing to show yet
            groups[cutoffs[customer.pk]].append(customer)
    examples: list[tuple[datetime, int, dict, bool]] = []
    for at, members in groups.items():
        for customer, row in zip(members, rows_as_of(members, at), strict=True):
            examples.append((at, customer.pk, row, customer.churned_at is not None))
    examples.sort(key=lambda example: (example[0], example[1]))
    return examples


def churn_training_data(*, now: datetime | None = None) -> ai.OutcomeData:
    """Every company, oldest cut-off first, with whether it churned (the registered source of "customers.churn")."""
    examples = training_examples(now=now)
    churned = sum(1 for example in examples if example[3])
    latest = max((example[0] for example in examples if example[3]), default=None)
    fingerprint = f"{len(examples)}:{churned}:{latest.date() if latest else ''}"
    return ai.OutcomeData(
        rows=tuple(example[2] for example in examples),
        outcomes=tuple(example[3] for example in examples),
        outcome_names=("Churned", "Stayed"),
        sources={"companies": len(examples)},
        fingerprint=fingerprint[:64],
    )


def register() -> None:
    ai.register_outcome_source(
        MODEL,
        title=TITLE,
        collect=churn_training_data,
        noun="companies",
        description="Companies marked churned, each described as of 30 days before it left.",
    )


# --- Scoring now (from the health job) ---------------------------------------------------------------------


def _previous_scores(customer_ids: Sequence[int], at: datetime) -> dict[int, int]:
    day = timezone.localdate(at) - timedelta(days=TREND_DAYS)
    rows = HealthSnapshot.objects.filter(customer_id__in=customer_ids, day=day).exclude(band=HealthBand.UNKNOWN)
    return dict(rows.values_list("customer_id", "score"))


def churn_risk_update(results: Sequence[Health], at: datetime) -> None:
    """Scores the batch the health job just scored: the deployed model for all of them in one call, else the
    heuristic; stores risk, source and reasons on Customer in one statement. Churned companies get none."""
    ids = [result.customer_id for result in results]
    customers = {
        c.pk: c
        for c in Customer.objects.filter(pk__in=ids).only("id", "tier", "created", "contact_count", "churned_at")
    }
    live = [r for r in results if r.customer_id in customers and customers[r.customer_id].churned_at is None]
    previous = _previous_scores(ids, at)
    values: dict[int, tuple[float | None, str, list]] = {cid: (None, "", []) for cid in customers}
    rows = [
        features(
            customers[r.customer_id],
            r,
            previous_score=previous.get(r.customer_id),
            at=at,
            contacts=customers[r.customer_id].contact_count,
        )
        for r in live
    ]
    predictions = ai.outcome_predict_many(MODEL, rows, drivers=3) if rows else None
    for index, result in enumerate(live):
        if predictions is not None:
            prediction = predictions[index]
            reasons = [driver.phrase for driver in prediction.drivers]
            values[result.customer_id] = (prediction.probability, prediction.model, reasons)
        else:
            known = result.band != HealthBand.UNKNOWN
            risk, reason = heuristic(result.score if known else None, previous.get(result.customer_id))
            values[result.customer_id] = (risk, HEURISTIC, [reason])
    _store(values)


def _store(values: dict[int, tuple[float | None, str, list]]) -> None:
    import json

    table = connection.ops.quote_name(Customer._meta.db_table)
    ids = list(values)
    sql = (
        f"UPDATE {table} AS c SET churn_risk = v.risk, churn_risk_source = v.source, churn_drivers = v.drivers "
        "FROM unnest(%s::int[], %s::float8[], %s::text[], %s::jsonb[]) AS v(id, risk, source, drivers) "
        "WHERE c.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [ids, [values[i][0] for i in ids], [values[i][1] for i in ids], [json.dumps(values[i][2]) for i in ids]],
        )


def driver_words(field: str) -> str:
    return WORDS.get(field, field.replace("_", " "))
