"""Truth check of recurring-defect detection, and its cost at scale.

Run by hand while the embedded servers run (`scripts/devstack.py services`):
    .venv/bin/python bench/insights_trends.py quality [--days 60] [--per-day 150] [--defects 10] [--seed 1]
                                                      [--step-hours 24]
    .venv/bin/python bench/insights_trends.py scale [--tickets 100000] [--days 30]

quality — workspace "bench-trends": `--days` of history, `--per-day` background tickets a day drawn from the 400
labelled tickets of ai/tests/data/tickets_labelled.jsonl (116 templates over 8 topics: steady background with its
own Poisson noise), plus `--defects` planted recurring defects, each with a known start day, a daily size drawn
from Poisson(4–10) for 3–7 days, and wording variations (6 phrasings × greetings × details × sign-offs); before
its start each defect also leaks in at 0.15 a day. Every text is embedded by the local MiniLM model through
ai.facade.embed and stored as the ticket's topic vector (what trends.ticket_topics_index stores in production).
Then `insights.trends.recurring_defects_detect` (the production function, database included) runs every
`--step-hours` from day 14 on, and each NEW trend is scored: a true positive when most of its tickets belong to one
planted defect not found before, else a false positive (a second trend for the same defect counts as false: its
alert would be a second one). Precision = true / new trends; recall = defects found / planted; delay = the run that
found it − the defect's first planted ticket.

scale — workspace "bench-trends-scale": `--tickets` over `--days`, vectors made like bench/ai_vectors.py's
"mixture" (convex mixes of real MiniLM embeddings of the labelled tickets, plus noise) with a few planted spikes;
loaded once (kept for the next run). Then a fresh process times one `recurring_defects_detect(window_days=--days)`
and reports its wall time and peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from ai import facade as ai  # noqa: E402
from ai.models import Embedding  # noqa: E402
from ai.providers.local.encoder import MODEL_NAME  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from customers.models import Contact, Customer  # noqa: E402
from helpdesk.facade import TOPIC_SOURCE  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402
from insights import trends  # noqa: E402
from insights.models import Trend, TrendAlert  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "ai" / "tests" / "data" / "tickets_labelled.jsonl"
GREETINGS = ["", "Hi team,\n", "Hello,\n", "Dear support,\n", "Hey there,\n"]
SIGN_OFFS = ["", "\nThanks", "\nRegards, Dana", "\nCheers\nMarc", "\nBest, Priya"]
DEFECTS = {
    "pdf-export": [
        "PDF export fails with an error 500",
        "Exporting a report to PDF gives a server error",
        "The export to PDF button does nothing but an error page",
        "Cannot download reports as PDF any more, it errors out",
        "PDF export is broken: internal server error",
        "Report PDF generation crashes with error 500",
    ],
    "sso-loop": [
        "Single sign-on sends us back to the login page in a loop",
        "SSO login keeps redirecting to the sign-in screen",
        "After signing in with Okta we land on the login page again",
        "Endless redirect loop when logging in through SSO",
        "SAML login loops back to sign in",
        "Our SSO sign-in never completes, it redirects forever",
    ],
    "csv-accents": [
        "CSV import drops accented characters",
        "Names with accents are garbled after importing a CSV",
        "Importing contacts from CSV breaks é and ü",
        "Special characters disappear when we upload a CSV file",
        "CSV upload corrupts accents in customer names",
        "The CSV importer mangles non-English letters",
    ],
    "webhook-dupes": [
        "Webhooks are delivered twice",
        "We receive duplicate webhook calls for every event",
        "Each webhook event arrives two or three times",
        "Webhook retries send the same payload again after success",
        "Duplicate webhook deliveries are creating double orders",
        "Your webhooks fire multiple times for one change",
    ],
    "calendar-offset": [
        "Calendar sync shows meetings one hour off",
        "Events synced from Google Calendar are an hour late",
        "All synced appointments moved by one hour",
        "Calendar integration has the wrong time zone, meetings shifted an hour",
        "Meetings appear an hour early after the calendar sync",
        "Synced calendar events are off by 60 minutes",
    ],
    "photo-crash": [
        "The mobile app crashes when uploading a photo",
        "App closes itself as soon as I attach a picture",
        "Attaching an image in the iPhone app makes it crash",
        "Android app crashes on photo upload",
        "Uploading a photo from the phone kills the app",
        "Mobile app force-closes when adding an image",
    ],
    "sms-2fa": [
        "Two-factor codes by SMS never arrive",
        "I do not get the verification text message to log in",
        "The 2FA SMS code is not delivered",
        "No SMS with the login code since yesterday",
        "Verification codes by text never show up on my phone",
        "Two-step login SMS missing, cannot sign in",
    ],
    "search-quotes": [
        "Search returns nothing for phrases in quotes",
        "Searching with quotation marks gives no results",
        "Exact phrase search is broken, zero results",
        "When I put my search in quotes nothing is found",
        "Quoted search terms return an empty list",
        "Phrase search with double quotes finds nothing",
    ],
    "dark-mode-charts": [
        "In dark mode the chart labels are invisible",
        "Dark theme makes graph axis text unreadable",
        "Chart legends disappear when dark mode is on",
        "Cannot read the dashboard charts in dark mode, labels are black on black",
        "Dark mode hides the numbers on the charts",
        "Graph labels are not visible with the dark theme",
    ],
    "invoice-tax": [
        "The invoice PDF shows the wrong tax rate",
        "Our invoices have 19% VAT instead of 20%",
        "VAT on the latest invoice is calculated with the old rate",
        "Invoice tax rate is wrong since this month",
        "Wrong sales tax percentage printed on invoices",
        "The tax line on invoices uses an incorrect rate",
    ],
}
DETAILS = ["", " since this morning.", " for all our users.", " It started after the update.", " Please help."]
COMPANIES = 200


def _labelled() -> list[str]:
    return [json.loads(line)["text"] for line in DATA.read_text().splitlines()]


def _subject(text: str) -> str:
    """The first line that says something (the labelled tickets open with a greeting)."""
    lines = [line for line in text.splitlines() if len(line.split()) >= 3]
    return (lines[0] if lines else text)[:200]


def _people(count: int) -> list[tuple[Customer, Contact]]:
    customers = Customer.objects.bulk_create(
        Customer(name=f"Bench company {index:04d}", domain=f"bench{index}.test") for index in range(count)
    )
    contacts = Contact.objects.bulk_create(
        Contact(customer=customer, name=f"Person {customer.pk}", email=f"p{customer.pk}@bench.test")
        for customer in customers
    )
    return list(zip(customers, contacts, strict=True))


def _store(rows: list[tuple], vectors: np.ndarray) -> list[int]:
    """Tickets (created, subject, text, (customer, contact)) and their topic vectors, in bulk."""
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                subject=subject[:200],
                original_description=text,
                requester=person[1],
                customer=person[0],
                created=created,
            )
            for created, subject, text, person in rows
        ],
        batch_size=2000,
    )
    Embedding.objects.bulk_create(
        [
            Embedding(source=TOPIC_SOURCE, object_id=str(t.pk), model=MODEL_NAME, text_hash="bench", vector=v)
            for t, v in zip(tickets, vectors, strict=True)
        ],
        batch_size=2000,
    )
    return [ticket.pk for ticket in tickets]


def _embed(texts: list[str]) -> np.ndarray:
    distinct = sorted(set(texts))
    vectors = {}
    for start in range(0, len(distinct), 256):
        batch = distinct[start : start + 256]
        vectors.update(zip(batch, np.asarray(ai.embed(batch, feature="bench.trends").vectors), strict=True))
    return np.vstack([vectors[text] for text in texts]).astype(np.float32)


def _drop_hnsw() -> None:
    """Detection never searches the index; loading is much faster without it (bench schema only)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS ai_embedding_hnsw")


# --- quality ----------------------------------------------------------------------------------------------------


def quality(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    tenant = bench_workspace("bench-trends", "Bench trends")
    with tenant_context(tenant):
        Trend.objects.all().delete()
        Ticket.objects.all().delete()
        Embedding.objects.filter(source=TOPIC_SOURCE).delete()
        Contact.objects.all().delete()
        Customer.objects.all().delete()
        _drop_hnsw()
        start_of_history = (timezone.now() - timedelta(days=args.days)).replace(hour=0, minute=0, second=0)
        planted, truth = _history(args, rng, start_of_history)
        found, trend_count, false_positives, delays = _detect_daily(args, start_of_history, planted, truth)
        _print_quality(args, truth, found, trend_count, false_positives, delays)


def _history(args, rng, origin) -> tuple[dict[int, str], dict[str, dict]]:
    people = _people(COMPANIES)
    background = _labelled()
    names = list(DEFECTS)[: args.defects]
    truth = {}
    for name in names:
        start_day = int(rng.integers(20, args.days - 8))
        truth[name] = {"start_day": start_day, "days": int(rng.integers(3, 8)), "rate": float(rng.uniform(4, 10))}
    rows, labels = [], []
    for day in range(args.days):
        day_start = origin + timedelta(days=day)
        for _ in range(rng.poisson(args.per_day)):
            text = background[rng.integers(len(background))]
            rows.append((day_start + timedelta(seconds=int(rng.integers(86400))), _subject(text), text))
            labels.append("")
        for name, spec in truth.items():
            active = spec["start_day"] <= day < spec["start_day"] + spec["days"]
            for _ in range(rng.poisson(spec["rate"] if active else 0.15)):
                phrasing = DEFECTS[name][rng.integers(6)]
                text = GREETINGS[rng.integers(5)] + phrasing + DETAILS[rng.integers(5)] + SIGN_OFFS[rng.integers(5)]
                created = day_start + timedelta(seconds=int(rng.integers(86400)))
                rows.append((created, phrasing, text))
                labels.append(name if active else "")
                if active:
                    first = truth[name].setdefault("first", created)
                    truth[name]["first"] = min(first, created)
                    truth[name]["size"] = truth[name].get("size", 0) + 1
    vectors = _embed([text for _, _, text in rows])
    order = sorted(range(len(rows)), key=lambda index: rows[index][0])
    stored = _store([(*rows[i], people[int(rng.integers(COMPANIES))]) for i in order], vectors[order])
    planted = {pk: labels[i] for pk, i in zip(stored, order, strict=True) if labels[i]}
    print(f"history: {len(rows)} tickets over {args.days} days, {len(planted)} of them in planted spikes")
    return planted, truth


def _detect_daily(args, origin, planted, truth):
    found: dict[str, float] = {}
    trend_count, false_positives, delays = 0, [], []
    step = timedelta(hours=args.step_hours)
    now = origin + timedelta(days=14)
    started = time.perf_counter()
    runs = 0
    while now <= origin + timedelta(days=args.days):
        run = trends.recurring_defects_detect(now=now)
        runs += 1
        for trend in run.new:
            trend_count += 1
            labels = [planted.get(pk, "") for pk in trend.ticket_ids]
            best = max(set(labels), key=labels.count)
            if best and labels.count(best) * 2 > len(labels) and best not in found:
                found[best] = (now - truth[best]["first"]).total_seconds() / 3600
                delays.append(found[best])
            else:
                false_positives.append((now, trend.name, len(labels), best, labels.count(best)))
        now += step
    print(f"{runs} detection runs in {time.perf_counter() - started:.1f} s")
    return found, trend_count, false_positives, delays


def _print_quality(args, truth, found, trend_count, false_positives, delays) -> None:
    for name, spec in truth.items():
        delay = f"{found[name]:.1f} h" if name in found else "missed"
        print(
            f"  {name:18} start day {spec['start_day']:2}, {spec['days']} days at ~{spec['rate']:.1f}/day, "
            f"{spec.get('size', 0)} tickets: {delay}"
        )
    for at, name, size, best, count in false_positives:
        print(f"  false positive at {at:%d %b %H:%M}: {name!r} ({size} tickets, {count} of '{best or 'noise'}')")
    precision = (trend_count - len(false_positives)) / trend_count if trend_count else 0.0
    recall = len(found) / len(truth)
    median = statistics.median(delays) if delays else float("nan")
    print(
        f"precision {precision:.2f} ({trend_count - len(false_positives)}/{trend_count}), "
        f"recall {recall:.2f} ({len(found)}/{len(truth)}), median delay {median:.1f} h "
        f"(runs every {args.step_hours} h)"
    )


# --- scale ------------------------------------------------------------------------------------------------------


def scale(args: argparse.Namespace) -> None:
    tenant = bench_workspace("bench-trends-scale", "Bench trends scale")
    with tenant_context(tenant):
        have = Ticket.objects.count()
        if have != args.tickets:
            _scale_seed(args)
    result = subprocess.run(
        [sys.executable, __file__, "scale-detect", "--days", str(args.days)], capture_output=True, text=True
    )
    print(result.stdout.strip() or result.stderr[-2000:])


def _scale_seed(args) -> None:
    rng = np.random.default_rng(3)
    Trend.objects.all().delete()
    Ticket.objects.all().delete()
    Embedding.objects.filter(source=TOPIC_SOURCE).delete()
    Contact.objects.all().delete()
    Customer.objects.all().delete()
    _drop_hnsw()
    people = _people(2000)
    texts = _labelled()
    base = _embed(texts)
    now = timezone.now()
    started = time.perf_counter()
    for start in range(0, args.tickets, 20_000):
        count = min(20_000, args.tickets - start)
        picks = rng.integers(len(texts), size=(count, 3))
        weights = rng.dirichlet([4.0, 1.0, 1.0], size=count).astype(np.float32)
        vectors = np.einsum("nk,nkd->nd", weights, base[picks]) + rng.normal(scale=0.01, size=(count, 384))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        ages = rng.uniform(0, args.days * 86400, size=count)
        rows = [
            (now - timedelta(seconds=float(age)), _subject(texts[p[0]]), texts[p[0]], people[p[0] % 2000])
            for age, p in zip(ages, picks, strict=True)
        ]
        _store(rows, vectors)
        print(f"  stored {start + count} tickets ({time.perf_counter() - started:.0f} s)", flush=True)
    # A few spikes in the last day, so naming and the revenue link run too.
    spike_texts = [phrasing for name in list(DEFECTS)[:3] for phrasing in DEFECTS[name] for _ in range(3)]
    spike_vectors = _embed(spike_texts)
    _store(
        [(now - timedelta(hours=2), text, text, people[i % 2000]) for i, text in enumerate(spike_texts)],
        spike_vectors,
    )


def _memory(field: str) -> float:
    """MB from /proc/self/status. VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a process
    started by the seeding one would report the seeder's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scale_detect(args: argparse.Namespace) -> None:
    tenant = bench_workspace("bench-trends-scale", "Bench trends scale")
    with tenant_context(tenant):
        Trend.objects.all().delete()
        TrendAlert.objects.all().delete()
        before = _memory("VmHWM")
        started = time.perf_counter()
        run = trends.recurring_defects_detect(window_days=args.days)
        elapsed = time.perf_counter() - started
        peak = _memory("VmHWM")
    print(
        f"detection over {run.tickets} tickets ({run.embedded} with vectors) in {args.days} days: {elapsed:.1f} s, "
        f"peak RSS {peak:.0f} MB (process before detection {before:.0f} MB); {len(run.spiking)} spiking: "
        + "; ".join(f"{trend.name} ({trend.figures['recent']})" for trend in run.spiking)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--days", type=int, default=60)
    q.add_argument("--per-day", type=int, default=150)
    q.add_argument("--defects", type=int, default=10)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--step-hours", type=int, default=24)
    q.set_defaults(func=quality)
    s = sub.add_parser("scale")
    s.add_argument("--tickets", type=int, default=100_000)
    s.add_argument("--days", type=int, default=30)
    s.set_defaults(func=scale)
    d = sub.add_parser("scale-detect")
    d.add_argument("--days", type=int, default=30)
    d.set_defaults(func=scale_detect)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
