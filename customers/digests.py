"""Digests: each company's summary of yesterday (generate_daily_summary) and the weekly health digest emailed to
each account owner (health_digests_send).

The daily summary reads the merged timeline (customers.timeline), so every app that registered a provider counts
without customers importing it. Every statement cites the entries it comes from, numbered as the stored sources:
- offline (and whenever generation fails or cites nothing valid) it is extractive: counts per kind, then the most
  informative sentences that `ai.facade.summarize` picks from the entries' own texts; a sentence that cannot be
  traced back to an entry is dropped, never shown unsourced;
- with a generative provider (`ai.facade.can_generate()`), the entries go to the model as numbered sources and
  it must cite the numbers; statements citing no known number are dropped.

Days are calendar days in the workspace's time zone (settings.TIME_ZONE, as the AI usage pages count them).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ai import facade as ai
from core.emails import templated_email_send, workspace_name
from core.links import workspace_url

from .contracts import TimelineEntry
from .models import Customer, DailySummary, HealthDigestSent, HealthSnapshot
from .timeline import MAX_PAGE_SIZE, active_customers, customer_timeline, timeline_kinds

logger = logging.getLogger(__name__)

MAX_ENTRIES = 200  # a day's sources: enough for any real account, bounded for the prompt and the page
SUMMARY_SENTENCES = 3
FEATURE = "customers.daily_summary"
EXTRACTIVE = "extractive"
DIGEST_DRIVERS = 2  # drivers shown per company in the weekly digest


# --- The workspace's days -------------------------------------------------------------------------------


def workspace_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def yesterday(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(workspace_zone()).date() - timedelta(days=1)


def day_window(day: date) -> tuple[datetime, datetime]:
    """[start, end) of `day` in the workspace's time zone (23 or 25 hours on a DST change)."""
    zone = workspace_zone()
    return datetime.combine(day, time.min, tzinfo=zone), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=zone
    )


# --- Gathering a day ------------------------------------------------------------------------------------


def day_entries(customer_id: int, day: date, *, limit: int = MAX_ENTRIES) -> list[TimelineEntry]:
    """The company's timeline entries of `day`, oldest first (at most `limit`: the newest are kept)."""
    since, until = day_window(day)
    entries: list[TimelineEntry] = []
    cursor = None
    while len(entries) < limit:
        page = customer_timeline(
            customer_id=customer_id, since=since, until=until, cursor=cursor, limit=min(MAX_PAGE_SIZE, limit)
        )
        entries += page.entries
        cursor = page.next_cursor
        if cursor is None:
            break
    return list(reversed(entries[:limit]))


def had_activity(customer_id: int, day: date) -> bool:
    since, until = day_window(day)
    return bool(customer_timeline(customer_id=customer_id, since=since, until=until, limit=1).entries)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?…" else f"{text}."


def entry_text(entry: TimelineEntry) -> str:
    """An entry as one line of sentences: its title, then its summary."""
    return " ".join(part for part in (_sentence(entry.title), _sentence(entry.summary)) if part)


def source_json(number: int, entry: TimelineEntry) -> dict:
    return {
        "number": number,
        "kind": entry.kind,
        "source_app": entry.source_app,
        "id": entry.id,
        "at": entry.at.isoformat(),
        "title": entry.title,
        "summary": entry.summary,
        "url": entry.url,
        "actor": entry.actor,
    }


def kind_counts(entries: Iterable[TimelineEntry]) -> list[dict]:
    labels = {kind.name: kind.label for kind in timeline_kinds()}
    counted = Counter(entry.kind for entry in entries)
    return [
        {"kind": kind, "label": labels.get(kind, kind), "count": count}
        for kind, count in sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    ]


def _counts_statement(counts: list[dict], entries: list[TimelineEntry]) -> dict:
    text = "; ".join(f"{row['label']}: {row['count']}" for row in counts)
    return {"text": f"{text}.", "sources": list(range(1, len(entries) + 1)), "counts": True}


# --- Extractive (offline) and generative summaries ------------------------------------------------------


@dataclass(frozen=True)
class Written:
    statements: list[dict]
    model: str
    generated: bool


_BOUNDARY = re.compile(r"(?<=[.!?…])\s+")


def _trace(sentence: str, lines: list[str]) -> list[int]:
    """The numbers (from 1) of the entries whose text contains `sentence`."""
    return [number for number, line in enumerate(lines, start=1) if sentence in line]


def ground_sentences(summary: str, lines: list[str]) -> list[dict]:
    """Splits an extractive summary back into sentences, each with the entries it was taken from. Pieces the
    split cut too finely are joined again; a piece found in no entry is dropped (never shown unsourced)."""
    statements: list[dict] = []
    pending = ""
    for piece in _BOUNDARY.split(" ".join(summary.split())):
        candidate = f"{pending} {piece}".strip()
        sources = _trace(candidate, lines)
        if sources:
            statements.append({"text": candidate, "sources": sources})
            pending = ""
        elif _trace(piece, lines) and pending:
            statements.append({"text": piece, "sources": _trace(piece, lines)})
            pending = ""
        else:
            pending = candidate
    return statements


def extractive_statements(entries: list[TimelineEntry]) -> Written:
    lines = [entry_text(entry) for entry in entries]
    statements: list[dict] = []
    try:
        result = ai.summarize("\n".join(lines), feature=FEATURE, max_sentences=SUMMARY_SENTENCES)
        statements = ground_sentences(result.text, lines)
    except (ai.AIUnavailable, ai.AIInputError):
        logger.warning("no summarizer answered; the daily summary lists the first entries")
    if not statements:  # nothing traceable came back: the entries' own titles, first ones first
        statements = [{"text": _sentence(entry.title), "sources": [n]} for n, entry in enumerate(entries, 1)]
        statements = statements[:SUMMARY_SENTENCES]
    return Written(statements=statements, model=EXTRACTIVE, generated=False)


_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def cited_statements(text: str, count: int) -> list[dict]:
    """A model's answer as statements with the source numbers they cite; uncited or out-of-range: dropped."""
    statements = []
    for raw in _BOUNDARY.split(" ".join(text.split())):
        numbers = sorted({int(n) for group in _CITATION.findall(raw) for n in group.split(",") if 1 <= int(n) <= count})
        if numbers:
            statements.append({"text": _CITATION.sub("", raw).replace(" .", ".").strip(), "sources": numbers})
    return statements


def generative_statements(customer: Customer, day: date, entries: list[TimelineEntry]) -> Written | None:
    """None when no generative provider is configured, or when it fails or cites nothing we gave it."""
    if not ai.can_generate():
        return None
    zone = workspace_zone()
    numbered = "\n".join(
        f"[{n}] {entry.at.astimezone(zone):%H:%M} {entry.kind}: {entry_text(entry)}"
        for n, entry in enumerate(entries, 1)
    )
    context = {"company": customer.name, "day": day.isoformat(), "sources": numbered}
    try:
        result = ai.generate(FEATURE, context, max_output_tokens=400)
    except (ai.AIUnavailable, ai.AIInputError):
        logger.info("generation failed for the daily summary of company %s; using the extractive one", customer.pk)
        return None
    statements = cited_statements(result.text, len(entries))
    if not statements:
        return None
    return Written(statements=statements, model=result.meta.model or "generative", generated=True)


# --- The daily summary ----------------------------------------------------------------------------------


@transaction.atomic
def generate_daily_summary(*, customer: Customer, day: date | None = None) -> DailySummary | None:
    """Writes (or rewrites) the company's summary of `day` (default: yesterday); None when nothing happened."""
    day = day or yesterday()
    entries = day_entries(customer.pk, day)
    if not entries:
        DailySummary.objects.filter(customer=customer, day=day).delete()
        return None
    counts = kind_counts(entries)
    written = generative_statements(customer, day, entries) or extractive_statements(entries)
    summary, _ = DailySummary.objects.update_or_create(
        customer=customer,
        day=day,
        defaults={
            "counts": counts,
            "statements": [_counts_statement(counts, entries), *written.statements],
            "sources": [source_json(n, entry) for n, entry in enumerate(entries, 1)],
            "model": written.model,
            "generated": written.generated,
            "created": timezone.now(),
        },
    )
    return summary


def daily_summaries_generate(*, day: date | None = None, batch: int = 500) -> int:
    """Summaries of `day` (default: yesterday) for the companies that had activity that day; returns how many.

    Every timeline provider names its companies active that day (`active_customers`, a fixed number of queries
    whatever the number of companies), and only those are read, `batch` at a time: the quiet majority costs
    nothing. If a provider cannot name them, each company is asked for one entry of the day instead (one query
    per timeline kind). A company that fails is logged and skipped, the others still get theirs."""
    day = day or yesterday()
    active = active_customers(*day_window(day))
    if active is None:
        customers = Customer.objects.order_by("pk").iterator(chunk_size=batch)
        return _summaries_write((c for c in customers if had_activity(c.pk, day)), day)
    ids = sorted(active)
    written = 0
    for start in range(0, len(ids), batch):
        written += _summaries_write(Customer.objects.filter(pk__in=ids[start : start + batch]).order_by("pk"), day)
    return written


def _summaries_write(customers: Iterable[Customer], day: date) -> int:
    written = 0
    for customer in customers:
        try:
            written += generate_daily_summary(customer=customer, day=day) is not None
        except Exception:
            logger.exception("could not summarise company %s on %s", customer.pk, day)
    return written


def daily_summary_get(*, customer_id: int, day: date) -> DailySummary | None:
    return DailySummary.objects.filter(customer_id=customer_id, day=day).first()


def statements_with_links(summary: DailySummary) -> list[dict]:
    """Statements with their sources resolved (number, title, url), for the card and the API."""
    by_number = {source["number"]: source for source in summary.sources}
    rows = []
    for statement in summary.statements:
        cited = [by_number[n] for n in statement.get("sources", []) if n in by_number]
        if statement.get("counts"):
            cited = []  # the counts cite the whole day: the source list below already shows it
        rows.append({**statement, "cited": cited})
    return rows


# --- The weekly health digest ---------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _snapshot_by_customer(customer_ids: list[int], on_or_before: date, after: date) -> dict[int, HealthSnapshot]:
    """Each company's latest snapshot in (after, on_or_before]: one query."""
    rows = (
        HealthSnapshot.objects.filter(customer_id__in=customer_ids, day__gt=after, day__lte=on_or_before)
        .order_by("customer_id", "-day")
        .distinct("customer_id")
    )
    return {row.customer_id: row for row in rows}


def moved_drivers(before: list[dict], after: list[dict], limit: int = DIGEST_DRIVERS) -> list[dict]:
    """The drivers whose points fell most between two snapshots (the reasons of the drop), biggest first."""
    was = {driver["key"]: driver for driver in before or []}
    moved = []
    for driver in after or []:
        change = driver.get("points", 0) - was.get(driver["key"], {}).get("points", 0)
        if change < 0:
            moved.append({**driver, "change": change, "was_value": was.get(driver["key"], {}).get("value", "")})
    return sorted(moved, key=lambda driver: (driver["change"], driver["key"]))[:limit]


def health_drops(*, owner_id: int, today: date) -> list[dict]:
    """The owner's companies whose health dropped since a week ago, biggest drop first, each with its drivers."""
    customers = {c.pk: c for c in Customer.objects.filter(owner_id=owner_id).only("id", "name")}
    ids = list(customers)
    now = _snapshot_by_customer(ids, today, today - timedelta(days=7))
    week_ago = _snapshot_by_customer(ids, today - timedelta(days=7), today - timedelta(days=14))
    drops = []
    for customer_id, latest in now.items():
        earlier = week_ago.get(customer_id)
        if earlier is None or latest.score >= earlier.score:
            continue
        url = workspace_url(reverse("customers:customer_detail", args=[customer_id]))
        drops.append(
            {
                "customer_id": customer_id,
                "name": customers[customer_id].name,
                "was": earlier.score,
                "now": latest.score,
                "drop": earlier.score - latest.score,
                "band": latest.band,
                "drivers": moved_drivers(earlier.drivers, latest.drivers),
                "url": url,
            }
        )
    return sorted(drops, key=lambda row: (-row["drop"], row["name"], row["customer_id"]))


def health_digest_send(*, owner, today: date | None = None) -> HealthDigestSent | None:
    """Emails `owner` this week's digest unless it was already sent or nothing dropped; returns the record."""
    today = today or timezone.now().astimezone(workspace_zone()).date()
    week = week_start(today)
    if not owner.email or HealthDigestSent.objects.filter(owner=owner, week=week).exists():
        return None
    drops = health_drops(owner_id=owner.pk, today=today)
    if not drops:
        return None
    with transaction.atomic():
        record, created = HealthDigestSent.objects.get_or_create(
            owner=owner,
            week=week,
            defaults={"companies": [{k: row[k] for k in ("customer_id", "was", "now")} for row in drops]},
        )
        if not created:  # a concurrent run claimed it first
            return None
        context = {
            "owner": owner,
            "drops": drops,
            "week": week,
            "workspace_name": workspace_name(),
            "customers_url": workspace_url(reverse("customers:customer_list")),
        }
        recipient = owner.email
        transaction.on_commit(lambda: _send(recipient, context, record.pk))
    return record


def _send(recipient: str, context: dict, record_id: int) -> None:
    try:
        templated_email_send("customers/email/health_digest", recipient, context)
    except Exception:  # a refusing mail server is logged; the digest is not retried this week
        logger.exception("could not send health digest %s", record_id)


def health_digests_send(*, today: date | None = None) -> int:
    """This week's digest to every account owner of the workspace; returns how many were sent."""
    owner_ids = Customer.objects.filter(owner__isnull=False).values("owner_id")
    owners = get_user_model().objects.filter(pk__in=owner_ids, is_active=True).order_by("pk")
    return sum(health_digest_send(owner=owner, today=today) is not None for owner in owners)
