"""Company timeline speed with 5,000 entries: p50/p95 per page through the selector and over the HTML pages.

The company ("Timeline Bench Co") has about 5,000 timeline entries across every kind: tickets opened and solved,
public messages both ways, CSAT answers, notes, tasks and tasks done, spread over two years, with many sharing
a timestamp. Around it, 400 other companies with 20,000 tickets and 40,000 messages, so the indexes have to
find this company's rows among others'.

Lines:
- selector: every page of the whole timeline walked by its cursor (25 entries a page, ~200 pages), timed one
  by one, three times: p50/p95/max per page, and queries per page;
- selector with a filter (customer messages only; one month);
- HTTP, in-process through the whole stack (middleware, tenant routing, session, view, template): the company
  page, the timeline fragment the filters ask for, "load older" deep in the timeline, and a contact's page.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/customer_timeline.py [--rounds 3] [--requests 100]
The first run seeds a workspace "bench-timeline" (kept for later runs; `--drop` removes it).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from customers import selectors  # noqa: E402
from customers.models import Contact, Customer, Note, Task  # noqa: E402
from helpdesk.models import SatisfactionSurvey, Ticket, TicketMessage  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-timeline"
COMPANY = "Timeline Bench Co"
PAGE = 25
settings.ALLOWED_HOSTS.append("testserver")


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Timeline")
    with tenant_context(tenant):
        agent, _ = User.objects.get_or_create(email="agent@bench.test", defaults={"role": Role.AGENT, "name": "Bench"})
        if not Customer.objects.filter(name=COMPANY).exists():
            started = time.perf_counter()
            seed(agent)
            print(f"seeded in {time.perf_counter() - started:.1f} s")
    return tenant


def _tickets(rng, customer, people, agent, count, now, *, history=True):
    """`count` tickets of `customer` with an opening customer message, an agent reply, most solved, some rated."""
    tickets = []
    for _ in range(count):
        # Whole minutes: many entries share a timestamp, as imports and bursts make them.
        created = now - timedelta(minutes=rng.randrange(730 * 24 * 60))
        solved = created + timedelta(hours=rng.randint(1, 72)) if rng.random() < 0.8 else None
        tickets.append(
            Ticket(
                subject=f"Question {rng.randrange(10**6)} about invoices",
                original_description="Where is my invoice?",
                requester=rng.choice(people),
                customer=customer,
                assignee=agent,
                status=Ticket.Status.SOLVED if solved else Ticket.Status.OPEN,
                created=created,
                solved_at=solved if solved and solved < now else None,
            )
        )
    tickets = Ticket.objects.bulk_create(tickets, batch_size=2000)
    messages, surveys = [], []
    for ticket in tickets:
        messages.append(
            TicketMessage(
                ticket=ticket,
                body="Hello, where is my invoice?",
                author_contact=ticket.requester,
                created=ticket.created,
            )
        )
        messages.append(
            TicketMessage(
                ticket=ticket, body="It is attached.", author=agent, created=ticket.created + timedelta(hours=1)
            )
        )
        if history and ticket.solved_at and rng.random() < 0.45:
            answered = ticket.solved_at + timedelta(hours=2)
            surveys.append(
                SatisfactionSurvey(
                    ticket=ticket, rating=rng.randint(1, 5), sent_at=ticket.solved_at, answered_at=answered
                )
            )
    TicketMessage.objects.bulk_create(messages, batch_size=5000)
    SatisfactionSurvey.objects.bulk_create(surveys, batch_size=5000)


def seed(agent: User) -> None:
    rng = random.Random(12)
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        others = Customer.objects.bulk_create([Customer(name=f"Other {index:04d}") for index in range(400)])
        other_people = Contact.objects.bulk_create(
            [Contact(customer=company, name=f"Person {company.pk}-{n}") for company in others for n in range(3)]
        )
        by_company: dict[int, list[Contact]] = {}
        for person in other_people:
            by_company.setdefault(person.customer_id, []).append(person)
        for company in others:
            _tickets(rng, company, by_company[company.pk], agent, 50, now)
        company = Customer.objects.create(name=COMPANY, domain="timeline-bench.test", tier=Customer.Tier.ENTERPRISE)
        people = Contact.objects.bulk_create([Contact(customer=company, name=f"Colleague {n}") for n in range(12)])
        # ~900 tickets: opened 900, solved ~700, 1,800 messages, ~300 CSAT answers = ~3,700 entries
        _tickets(rng, company, people, agent, 900, now)
        notes = [
            Note(
                customer=company,
                contact=rng.choice(people) if rng.random() < 0.5 else None,
                body="Call notes: **renewal** discussed.",
                author=agent,
                created=now - timedelta(minutes=rng.randrange(730 * 24 * 60)),
            )
            for _ in range(900)
        ]
        Note.objects.bulk_create(notes, batch_size=2000)
        tasks = []
        for _ in range(300):
            created = now - timedelta(minutes=rng.randrange(730 * 24 * 60))
            done = rng.random() < 0.7
            tasks.append(
                Task(
                    customer=company,
                    title="Follow up",
                    owner=agent,
                    created=created,
                    due_at=created + timedelta(days=3),
                    done=done,
                    done_at=created + timedelta(days=2) if done else None,
                )
            )
        Task.objects.bulk_create(tasks)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(function, runs: int) -> tuple[list[float], list[float]]:
    """Wall times, and the process's own CPU times (what a shared machine's load inflates far less)."""
    timings, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        function()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return timings, cpu


def count_queries(function) -> int:
    """SQL statements run by `function` (a request resets Django's own query log, so count them as they go)."""
    count = 0

    def counting(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        function()
    return count


def report(label: str, timings: list[float], queries: int | str = "", cpu: list[float] | None = None) -> None:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    cpu_text = f"CPU p50 {statistics.median(cpu):6.1f} ms   " if cpu else ""
    print(
        f"{label:<52} n {len(timings):4d}   p50 {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   "
        f"max {timings[-1]:6.1f} ms   {cpu_text}queries {queries}"
    )


WALK_CPU: list[float] = []  # CPU time of every selector page walked, for the first line's figure


def walk_selector(customer_id: int, rounds: int, **filters) -> tuple[list[float], int, int]:
    """Every page, timed one by one, `rounds` times; returns timings, entries seen, queries of a deep page."""
    timings, entries, deep_queries = [], 0, 0
    for round_ in range(rounds):
        cursor, page_number = None, 0
        while True:
            started, cpu_started = time.perf_counter(), time.process_time()
            page = selectors.customer_timeline(customer_id=customer_id, cursor=cursor, limit=PAGE, **filters)
            timings.append((time.perf_counter() - started) * 1000)
            WALK_CPU.append((time.process_time() - cpu_started) * 1000)
            page_number += 1
            if page_number == 100:
                deep_queries = count_queries(
                    lambda cursor=cursor: selectors.customer_timeline(
                        customer_id=customer_id, cursor=cursor, limit=PAGE, **filters
                    )
                )
            if round_ == 0:
                entries += len(page.entries)
            cursor = page.next_cursor
            if cursor is None:
                break
    return timings, entries, deep_queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="walks of the whole timeline through the selector")
    parser.add_argument("--requests", type=int, default=100, help="requests per HTTP line")
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    print(f"load average before: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    tenant = workspace()
    with tenant_context(tenant):
        company = Customer.objects.get(name=COMPANY)
        contact = company.contacts.order_by("id").first()
        agent = User.objects.get(email="agent@bench.test")
        timings, entries, deep_queries = walk_selector(company.pk, args.rounds)
        print(f"workspace {SLUG}: company {company.pk} has {entries} timeline entries ({PAGE} a page)")
        report("selector, every page of the timeline", timings, deep_queries, WALK_CPU)
        report("selector, customer messages only", walk_selector(company.pk, 1, kinds=["message_customer"])[0], 1)
        month = {"since": timezone.now() - timedelta(days=60), "until": timezone.now() - timedelta(days=30)}
        report("selector, one month", walk_selector(company.pk, 1, **month)[0])
        cursor = None
        for _ in range(150):
            cursor = selectors.customer_timeline(customer_id=company.pk, cursor=cursor, limit=PAGE).next_cursor
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace_domain(SLUG))
    with tenant_context(tenant):
        client.force_login(agent)
    connection.set_schema_to_public()
    base = f"/customers/{company.pk}"
    lines = {
        "HTTP company page (notes, tasks, timeline page 1)": (f"{base}/", {}),
        "HTTP timeline fragment (filters: 2 kinds)": (
            f"{base}/timeline/?kinds=note&kinds=ticket_opened",
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "timeline-list"},
        ),
        "HTTP load older, page 151": (
            f"{base}/timeline/?cursor={quote(cursor or '')}",
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "timeline-more"},
        ),
        "HTTP contact page": (f"/customers/contacts/{contact.pk}/", {}),
    }
    for label, (url, headers) in lines.items():
        for _ in range(5):
            assert client.get(url, **headers).status_code == 200, url
        queries = count_queries(lambda url=url, headers=headers: client.get(url, **headers))
        timings, cpu = timed(lambda url=url, headers=headers: client.get(url, **headers), args.requests)
        report(label, timings, queries, cpu)
    print(f"load average after: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
