"""Demo insights: a recurring defect planted on top of the demo's months of ordinary tickets, and one detection run,
so the trends page shows a spiking problem linked to revenue and its alert email is in var/mail right after seeding.

The defect ("CSV export times out") arrives as BURST_TICKETS tickets over the last ~2 days, most of them in the last
day, in varied wording from COMPANIES companies; LEAD_COMPANIES of them have an open lead and QUOTE_COMPANIES of those
a quote sent and unanswered (made here when the demo's pipeline gave them none). Detection is the production code
(insights.trends, insights.alerts) run once, as the hourly task would. Idempotent: the tickets carry DEFECT_TAG and
nothing is planted, nor detected again, once one does. Deterministic for a seed (the wording, companies and times;
the times are relative to now).

Called by `manage.py seed_demo` after the helpdesk, leads and quotes are seeded; it composes their demo helpers the
way seed_demo does (pyproject's import contracts list these imports).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from customers import facade as customers
from helpdesk.demo import ReportedTicket, seed_reported_tickets
from leads import facade as leads
from leads.demo import seed_open_leads
from quotes import facade as quotes
from quotes.demo import seed_sent_quotes

from . import alerts, services, trends
from .models import DailyRollup

DEFECT_TAG = "csv-export-timeout"
BURST_TICKETS = 26
EARLY_TICKETS = 8  # of which on the day before the last: the problem began ~2 days ago and grew
COMPANIES = 8
LEAD_COMPANIES = 4
QUOTE_COMPANIES = 3
PENDING = ("sent", "viewed")  # a quote the customer has and has not answered
SUBJECTS = (
    "CSV export times out",
    "Export to CSV never finishes",
    "CSV export stuck, then a timeout error",
    "Timeout when exporting to CSV",
    "Can't export our data as CSV any more",
    "CSV download fails with a gateway timeout",
    "Export keeps timing out",
    "csv export not working (timeout)",
)
STATEMENTS = (
    "When we export {what} to CSV the page spins for a minute and then shows a timeout error.",
    "The CSV export of {what} never completes: after about 60 seconds we get '504 Gateway Timeout'.",
    "Exporting {what} as a CSV file times out every time we try, even for a single week.",
    "Our CSV export of {what} stopped working, it just loads and then says the request timed out.",
    "Since {when} the export to CSV fails with a timeout, so we cannot send {what} to finance.",
    "We click Export, choose CSV for {what}, and after a long wait it errors out with a timeout.",
)
WHAT = (
    "last month's tickets",
    "all our contacts",
    "the ticket queue",
    "our customers",
    "the SLA report",
    "this quarter's conversations",
)
WHEN = ("yesterday", "this morning", "the last update", "Monday")
EXTRAS = (
    "",
    " Smaller date ranges do not help.",
    " This blocks our month-end reporting.",
    " Same in Chrome and Firefox.",
    " Can you look into it urgently?",
    " It worked fine last week.",
)
# Mostly none, and never one greeting often enough to become one of the trend's keywords.
GREETINGS = ("", "", "", "Hello,\n\n", "Dear support,\n\n", "Good morning,\n\n")


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    contact_ids: tuple[int, ...]


def seed_insights(*, agents: Sequence, sellers: Sequence, seed: int = 0) -> str:
    """Plants the recurring defect (with the leads and quotes it puts at risk) and runs detection once; a line for
    seed_demo's summary."""
    started = time.perf_counter()
    planted = defect_plant(agents=agents, sellers=sellers, seed=seed)
    # The demo's history was bulk-written, without the change events that keep rollups: rebuild them once, as the
    # nightly repair would, so the dashboards show the months of data from the first start.
    if planted or not DailyRollup.objects.filter(metric="created").exists():
        services.rollups_repair_recent(days=0)
    if not planted:
        return "recurring defect planted before"
    embedded = trends.ticket_topics_index()
    run = trends.recurring_defects_detect()
    sent = alerts.defect_alerts_send(run)
    names = "; ".join(trend.name for trend in run.spiking) or "none"
    return (
        f"recurring defect planted ({planted} tickets), {embedded} ticket topics embedded, spiking: {names}, "
        f"{sent} alert(s) emailed, rollups rebuilt, in {time.perf_counter() - started:.1f} s"
    )


@transaction.atomic
def defect_plant(*, agents: Sequence, sellers: Sequence, seed: int = 0, now: datetime | None = None) -> int:
    """The defect's tickets, then the open leads and sent quotes its first companies lack; how many tickets (0 when
    they exist already, or the workspace has no contacts)."""
    now = now or timezone.now()
    rng = random.Random(seed)
    companies = _companies(rng)
    if not companies:
        return 0
    reports = _reports(rng, companies, now)
    made = seed_reported_tickets(agents=agents, reports=reports, tag=DEFECT_TAG, seed=seed, now=now)
    if made:
        _pipeline_ensure(companies, sellers, seed)
    return made


def _companies(rng: random.Random) -> list[Company]:
    contacts: dict[int, list[int]] = defaultdict(list)
    for contact_id, customer_id, *_ in customers.contact_requester_rows():
        contacts[customer_id].append(contact_id)
    chosen = rng.sample(sorted(contacts), k=min(COMPANIES, len(contacts)))
    briefs = customers.customer_briefs(customer_ids=chosen)
    return [Company(pk, briefs[pk].name, tuple(contacts[pk])) for pk in chosen if pk in briefs]


def _reports(rng: random.Random, companies: list[Company], now: datetime) -> list[ReportedTicket]:
    """BURST_TICKETS tickets, EARLY_TICKETS of them 24–44 hours ago and the rest in the last 23 hours; every
    company writes at least once."""
    senders = [*companies, *rng.choices(companies, k=BURST_TICKETS - len(companies))]
    rng.shuffle(senders)
    reports = []
    for index, company in enumerate(senders):
        hours = rng.uniform(24, 44) if index < EARLY_TICKETS else rng.uniform(0.2, 23)
        statement = rng.choice(STATEMENTS).format(what=rng.choice(WHAT), when=rng.choice(WHEN))
        body = f"{rng.choice(GREETINGS)}{statement}{rng.choice(EXTRAS)}"
        reports.append(
            ReportedTicket(
                created=(now - timedelta(hours=hours)).replace(microsecond=0),
                contact_id=rng.choice(company.contact_ids),
                subject=rng.choice(SUBJECTS),
                description=body,
                upset=rng.random() < 0.35,
            )
        )
    return reports


def _pipeline_ensure(companies: list[Company], sellers: Sequence, seed: int) -> None:
    """The first LEAD_COMPANIES companies get an open lead and the first QUOTE_COMPANIES a quote sent on it, unless
    the demo's pipeline gave them one already."""
    wanted = companies[:LEAD_COMPANIES]
    have_lead = {lead.customer_id for lead in leads.open_leads_for_customers(customer_ids=[c.id for c in wanted])}
    seed_open_leads(
        companies=[(c.id, c.contact_ids[0], c.name) for c in wanted if c.id not in have_lead], owners=sellers, seed=seed
    )
    wanted = companies[:QUOTE_COMPANIES]
    ids = [company.id for company in wanted]
    have_quote = {q.customer_id for q in quotes.pending_quotes_for_customers(customer_ids=ids) if q.status in PENDING}
    lead_of: dict[int, int] = {}
    for lead in leads.open_leads_for_customers(customer_ids=ids):  # most valuable first
        lead_of.setdefault(lead.customer_id, lead.id)
    missing = [lead_of[pk] for pk in ids if pk not in have_quote and pk in lead_of]
    seed_sent_quotes(lead_ids=missing, owners=sellers, seed=seed)
