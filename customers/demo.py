"""Realistic demo customers and contacts, deterministic for a given seed and fast enough for 10k-customer benchmarks.

Names come from Faker's en_US vocabulary (with its frequency weights), drawn with our own seeded Random in bulk:
calling Faker per name costs about half a millisecond, which made 10k customers and 30k people take a minute.
Customer.search_text is filled by the database's triggers as the rows go in.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from faker.providers.company.en_US import Provider as CompanyNames
from faker.providers.person.en_US import Provider as PersonNames

from .models import Contact, Customer, Note, Task

INDUSTRIES = (
    "Software",
    "E-commerce",
    "Financial services",
    "Healthcare",
    "Education",
    "Manufacturing",
    "Logistics",
    "Retail",
    "Media",
    "Travel & hospitality",
    "Telecommunications",
    "Energy",
    "Real estate",
    "Non-profit",
    "Government",
)
TIER_WEIGHTS = {
    Customer.Tier.FREE: 30,
    Customer.Tier.STARTER: 38,
    Customer.Tier.PROFESSIONAL: 24,
    Customer.Tier.ENTERPRISE: 8,
}
TAGS = ("vip", "emea", "apac", "americas", "churn-risk", "renewal-q1", "renewal-q3", "beta", "partner", "onboarding")
TITLES = (
    "CEO",
    "CTO",
    "COO",
    "Head of Support",
    "Support Team Lead",
    "Customer Success Manager",
    "IT Manager",
    "Procurement Lead",
    "Operations Manager",
    "Office Manager",
    "Product Manager",
    "Finance Director",
    "Account Executive",
    "Software Engineer",
)
PHONE_FORMATS = ("+1 ###-###-####", "+44 20 #### ####", "+49 30 ########", "(###) ###-####")
TLDS = ("com", "com", "com", "io", "co", "net", "org", "de", "co.uk", "fr")
_COMPANY_SUFFIXES = re.compile(r"\b(inc|llc|ltd|plc|group|and sons|and|co|corp|gmbh|limited)\b\.?", re.IGNORECASE)
HISTORY_DAYS = 730


def seed_customers(*, owners: Sequence, customers: int = 200, contacts: int = 600, seed: int = 0) -> int:
    """Adds `customers` companies and `contacts` people in this workspace; returns how many customers it added.

    Does nothing (returns 0) if the workspace already has customers, so re-running a demo seed is harmless.
    """
    if Customer.objects.exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        companies = Customer.objects.bulk_create(_companies(rng, owners, customers, now), batch_size=2000)
        if companies and contacts:
            Contact.objects.bulk_create(_people(rng, companies, contacts, now), batch_size=2000)
    _analyze(Customer, Contact)
    return len(companies)


def _analyze(*models) -> None:
    """Fresh planner statistics. Autovacuum gathers them only a while after a bulk insert; until then PostgreSQL
    guesses how many customers a search or filter matches, and at 10k customers a broad search scanned and sorted
    every match (9 ms) instead of walking the name index until the page was full (0.2 ms)."""
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _some_time_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(max(1, int((end - start).total_seconds()))))


class _Names:
    """Faker's en_US first and last names with their weights, drawn many at a time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.first, self.first_weights = zip(*PersonNames.first_names.items(), strict=True)
        self.last, self.last_weights = zip(*PersonNames.last_names.items(), strict=True)

    def firsts(self, count: int) -> list[str]:
        return self.rng.choices(self.first, weights=self.first_weights, k=count)

    def lasts(self, count: int) -> list[str]:
        return self.rng.choices(self.last, weights=self.last_weights, k=count)


def _company_names(rng: random.Random, count: int) -> list[str]:
    """Faker's company formats ("Smith LLC", "Lee-Wong", "Park, Diaz and Cole"), all different."""
    names = _Names(rng)
    used: set[str] = set()
    result: list[str] = []
    while len(result) < count:
        batch = names.lasts(3 * (count - len(result)) + 3)
        for index in range(0, len(batch) - 2, 3):
            a, b, c = batch[index : index + 3]
            shape = rng.randrange(3)
            if shape == 0:
                name = f"{a} {rng.choice(CompanyNames.company_suffixes)}"
            elif shape == 1:
                name = f"{a}-{b}"
            else:
                name = f"{a}, {b} and {c}"
            if name not in used and len(result) < count:
                used.add(name)
                result.append(name)
    return result


def _companies(rng: random.Random, owners: Sequence, count: int, now: datetime) -> list[Customer]:
    """Companies added over the last two years."""
    tiers, weights = zip(*TIER_WEIGHTS.items(), strict=True)
    used_domains: set[str] = set()
    companies = []
    for name in _company_names(rng, count):
        companies.append(
            Customer(
                name=name,
                domain=_domain_for(name, rng, used_domains),
                industry=rng.choice(INDUSTRIES),
                tier=rng.choices(tiers, weights)[0],
                owner=rng.choice(owners) if owners and rng.random() < 0.85 else None,
                tags=rng.sample(TAGS, k=rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0]),
                created=_some_time_between(rng, now - timedelta(days=HISTORY_DAYS), now),
            )
        )
    return companies


def _domain_for(name: str, rng: random.Random, used: set[str]) -> str:
    """ "Smith, Jones and Lee Inc" → "smithjoneslee.com"; a number is added if two companies would collide."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]", "", _COMPANY_SUFFIXES.sub("", ascii_name.lower()))[:40] or "company"
    tld = rng.choice(TLDS)
    domain, number = f"{stem}.{tld}", 1
    while domain in used:
        number += 1
        domain = f"{stem}{number}.{tld}"
    used.add(domain)
    return domain


def _people(rng: random.Random, companies: list[Customer], count: int, now: datetime) -> list[Contact]:
    """Every company gets one contact first (while they last), the rest go to random companies; people are
    added after their company."""
    targets = companies[:count] + [rng.choice(companies) for _ in range(max(0, count - len(companies)))]
    names = _Names(rng)
    used_emails: set[str] = set()
    people = []
    for company, first, last in zip(targets, names.firsts(count), names.lasts(count), strict=True):
        email = _email_for(first, last, company.domain, used_emails)
        people.append(
            Contact(
                customer=company,
                name=f"{first} {last}",
                email=email,
                phone=_phone(rng),
                title=rng.choice(TITLES),
                created=_some_time_between(rng, company.created, now),
            )
        )
    return people


def _phone(rng: random.Random) -> str:
    digits = iter(str(rng.randrange(10**12)).zfill(12))
    return "".join(next(digits) if char == "#" else char for char in rng.choice(PHONE_FORMATS))


def _email_for(first: str, last: str, domain: str, used: set[str]) -> str:
    local = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())
    email, number = f"{local}@{domain}", 1
    while email in used:
        number += 1
        email = f"{local}{number}@{domain}"
    used.add(email)
    return email


# --- Notes and tasks, so company and contact timelines read like an account's history ------------

NOTE_TEMPLATES = (
    "Quarterly check-in with {person}: happy with response times, asked about **SSO** on the roadmap.",
    "{person} mentioned a budget review next quarter; renewal may slip. Keep an eye on usage.",
    "Onboarding call done. Next steps:\n\n- import their contacts\n- set up the shared inbox\n- train two agents",
    "Escalation last week was handled well; {person} thanked the team by email.",
    "Pricing question from {person}: they compare us with two other vendors. Sent the *Professional* sheet.",
    "Met {person} at the user conference. Interested in the AI drafting features.",
    "Contract owner changed: {person} now signs off on renewals.",
    "Security questionnaire received; forwarded to the compliance team.",
)
TASK_TITLES = (
    "Send the renewal quote",
    "Follow up on the open escalation",
    "Book the quarterly business review",
    "Share the SSO roadmap",
    "Check usage after the onboarding",
    "Call {person} about the budget review",
    "Send the security questionnaire answers",
    "Introduce the new account manager",
)


def seed_notes_and_tasks(*, authors: Sequence, seed: int = 0, share: float = 0.6) -> tuple[int, int]:
    """Notes and tasks on about `share` of the companies (more on bigger tiers), some about one of their people,
    dated across each company's life; open tasks have due dates around today, some with a reminder. Returns
    (notes, tasks); does nothing when notes exist."""
    if Note.objects.exists() or not authors:
        return 0, 0
    rng = random.Random(seed)
    now = timezone.now()
    notes: list[Note] = []
    tasks: list[Task] = []
    people: dict[int, list[Contact]] = {}
    for contact in Contact.objects.order_by("id"):
        people.setdefault(contact.customer_id, []).append(contact)
    for company in Customer.objects.order_by("id"):
        weight = {"enterprise": 3, "professional": 2}.get(company.tier, 1)
        if rng.random() > min(1.0, share * weight / 1.5):
            continue
        staff = people.get(company.pk, [])
        for _ in range(rng.randint(1, 2 + 2 * weight)):
            notes.append(_note(rng, company, staff, authors, now))
        for _ in range(rng.randint(0, 1 + weight)):
            tasks.append(_task(rng, company, staff, authors, now))
    with transaction.atomic():
        Note.objects.bulk_create(notes, batch_size=2000)
        Task.objects.bulk_create(tasks, batch_size=2000)
    _analyze(Note, Task)
    return len(notes), len(tasks)


def _about(rng: random.Random, staff: list[Contact]) -> Contact | None:
    return rng.choice(staff) if staff and rng.random() < 0.5 else None


def _note(rng: random.Random, company: Customer, staff: list[Contact], authors: Sequence, now: datetime) -> Note:
    contact = _about(rng, staff)
    person = contact.name if contact else (staff[0].name if staff else "the team")
    return Note(
        customer=company,
        contact=contact,
        body=rng.choice(NOTE_TEMPLATES).format(person=person),
        author=rng.choice(authors),
        pinned=rng.random() < 0.08,
        created=_some_time_between(rng, max(company.created, now - timedelta(days=365)), now),
    )


def _task(rng: random.Random, company: Customer, staff: list[Contact], authors: Sequence, now: datetime) -> Task:
    contact = _about(rng, staff)
    person = contact.name if contact else (staff[0].name if staff else "the customer")
    created = _some_time_between(rng, max(company.created, now - timedelta(days=120)), now)
    due = created + timedelta(days=rng.randint(2, 30), hours=rng.randint(0, 8))
    done = due < now and rng.random() < 0.75
    owner = rng.choice(authors)
    reminder = due - timedelta(hours=rng.choice((1, 4, 24))) if rng.random() < 0.4 else None
    return Task(
        customer=company,
        contact=contact,
        title=rng.choice(TASK_TITLES).format(person=person),
        owner=owner,
        created_by=owner,
        due_at=due,
        reminder_at=reminder,
        # Reminders of the past count as sent: a fresh demo does not email a backlog of them.
        reminder_sent_at=reminder if reminder is not None and reminder < now else None,
        done=done,
        done_at=_some_time_between(rng, created, min(due, now)) if done else None,
        created=created,
    )


HEALTH_HISTORY_DAYS = 90


def seed_health(*, days: int = HEALTH_HISTORY_DAYS) -> str:
    """Health scores for the demo companies, from their tickets (run after the helpdesk's demo data). The first time,
    a snapshot for each of the last `days` days, computed as of that day, so the company page's chart shows what
    the tickets say; afterwards only today's."""
    from .health import customer_health_analyze, customer_health_backfill
    from .models import HealthSnapshot

    if HealthSnapshot.objects.exists():
        return f"health: {customer_health_analyze()} companies scored"
    scored = customer_health_backfill(days=days)
    churned = seed_churn()
    return f"health: {scored} companies scored, {days} days of history, {churned} churned in the past"


CHURN_SHARE = 0.08
CHURN_DAYS_AGO = (40, 60, 80, 100, 120)  # within the helpdesk demo's 182 days of tickets, cut-offs included
CHURN_REASONS = ("Moved to a competitor", "Budget cuts", "Unhappy with support", "No longer needs the product")


def seed_churn(*, seed: int = 0, share: float = CHURN_SHARE) -> int:
    """Marks about `share` of the demo companies churned in the past, mostly those whose health (CSAT, sentiment,
    breaches) was worst a month before the day they left, so the churn model has a real pattern to learn. Once:
    nothing happens when a company is already marked churned."""
    from .churn import CUTOFF_DAYS
    from .health import health_batch
    from .models import HealthBand

    if Customer.objects.filter(churned_at__isnull=False).exists():
        return 0
    rng = random.Random(seed + 7)
    now = timezone.now()
    companies = list(Customer.objects.values_list("pk", "created"))
    per_day = max(1, round(share * len(companies) / len(CHURN_DAYS_AGO)))
    chosen: dict[int, int] = {}
    for days in CHURN_DAYS_AGO:
        cutoff = now - timedelta(days=days + CUTOFF_DAYS)
        ids = [pk for pk, created in companies if pk not in chosen and created < cutoff - timedelta(days=30)]
        scored = [h for h in health_batch(ids, at=cutoff) if h.band != HealthBand.UNKNOWN]
        # The sickest, give or take: not every sick company leaves, and some healthy-looking ones do.
        ranked = sorted(scored, key=lambda h: h.score + rng.gauss(0, 10))
        for result in ranked[:per_day]:
            chosen[result.customer_id] = days
    with transaction.atomic():
        for pk, days in chosen.items():
            Customer.objects.filter(pk=pk).update(
                churned_at=timezone.localdate(now) - timedelta(days=days),
                churn_reason=rng.choice(CHURN_REASONS),
                churn_risk=None,
                churn_risk_source="",
                churn_drivers=[],
            )
    return len(chosen)


# --- Yesterday's summaries, as the nightly digest job writes them (customers/digests.py) -----------------

DAILY_SUMMARY_COMPANIES = 12  # the top of the list (by name): what a visitor opens first


def seed_daily_summaries(*, authors: Sequence, seed: int = 0, companies: int = DAILY_SUMMARY_COMPANIES) -> str:
    """Yesterday's summary of every company that had activity yesterday, so company pages show their "Yesterday"
    card. The first time, the first `companies` companies of the list that were quiet yesterday get a note or two
    dated yesterday first (tickets alone reach only a few companies a day). Run last: tickets and leads add to a day."""
    from .digests import daily_summaries_generate, day_window, had_activity, yesterday
    from .models import DailySummary

    day = yesterday()
    added = 0
    if authors and not DailySummary.objects.exists():
        rng = random.Random(seed + 11)
        start, end = day_window(day)
        notes: list[Note] = []
        top = Customer.objects.filter(churned_at__isnull=True, created__lt=start).order_by(Lower("name"), "id")
        for company in top[:companies]:
            if had_activity(company.pk, day):
                continue
            staff = list(company.contacts.order_by("id")[:3])
            for _ in range(rng.randint(1, 2)):
                note = _note(rng, company, staff, authors, end)
                note.created = _some_time_between(rng, start + timedelta(hours=8), start + timedelta(hours=18))
                notes.append(note)
        Note.objects.bulk_create(notes)
        added = len(notes)
    return f"{daily_summaries_generate(day=day)} summaries of yesterday ({added} notes of yesterday added)"
