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
from django.utils import timezone
from faker.providers.company.en_US import Provider as CompanyNames
from faker.providers.person.en_US import Provider as PersonNames

from .models import Contact, Customer

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
    return f"health: {scored} companies scored, {days} days of history"
