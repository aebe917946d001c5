"""Demo helpdesk for a workspace: configuration, ~5,000 ticket histories over six months and a knowledge base.

`seed_helpdesk` is what `manage.py seed_demo` calls. It is deterministic for a seed and a `now`, and idempotent:
configuration rows are looked up by name, tickets are added only to a workspace without tickets and articles
only to one without articles. It is fast because histories are planned in memory (helpdesk.demo.tickets) and
written with bulk inserts, a thousand tickets at a time with all their messages in one statement: the full-text
triggers then rebuild each ticket's search vector once per batch rather than once per message.

SLA due times, first responses and resolutions are computed with the workspace's default business calendar
(helpdesk.business_hours) and the policy the SLA engine would pick; the demo writes the SLA fields as
helpdesk.services.sla keeps them (dues, pauses, minutes per target) and derives breach flags from those times.
Once committed, Celery embeds the solved tickets and fits the SLA risk model on the new history.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from core.outbox import enqueue_on_commit
from customers.facade import contact_requester_rows

from ..models import Article, ArticleCategory, SatisfactionSurvey, Ticket, TicketEvent, TicketMessage
from ..services.kb import articles_reindex
from .articles import ARTICLES, SECTIONS, article_body
from .macros import ensure_macros
from .setup import ensure_setup
from .tickets import HISTORY_DAYS, Plan, Planner, Report, Requester

TICKET_BATCH = 1000


@dataclass(frozen=True)
class DemoSummary:
    tickets: int = 0
    messages: int = 0
    surveys: int = 0
    articles: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.tickets} tickets ({self.messages} messages, {self.surveys} surveys) and "
            f"{self.articles} articles added in {self.seconds:.1f} s"
        )


def seed_helpdesk(
    *,
    agents: Sequence,
    tickets: int = 5000,
    seed: int = 0,
    days: int = HISTORY_DAYS,
    now: datetime | None = None,
    articles: bool = True,
) -> DemoSummary:
    """Adds the demo helpdesk to the current workspace; `agents` (active users) answer the tickets.

    `articles=False` leaves out the knowledge base (embedding it is most of a small seed's time).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    agents = [agent for agent in agents if agent.is_active]
    if not agents:
        return DemoSummary()
    # One generator per part: the tickets come out the same whether or not the configuration existed already.
    setup = ensure_setup(agents=agents, rng=random.Random(seed), today=now.date())
    ensure_macros(agents=agents, teams=setup.teams, rng=random.Random(seed + 3), now=now)
    written = seed_articles(author=agents[0], rng=random.Random(seed + 1), now=now) if articles else 0
    added = (0, 0, 0)
    requesters = requester_pool()
    if tickets > 0 and requesters and not Ticket.objects.exists():
        plans = Planner(rng=random.Random(seed + 2), setup=setup, requesters=requesters, now=now, days=days).plan(
            tickets
        )
        added = _write(plans)
        _analyze(Ticket, TicketMessage, TicketEvent, SatisfactionSurvey)
        _queue_learning()
    return DemoSummary(*added, articles=written, seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class ReportedTicket:
    """One ticket of a planted problem: when it came, from which contact, in which words (seed_reported_tickets)."""

    created: datetime
    contact_id: int
    subject: str
    description: str
    upset: bool = False


def seed_reported_tickets(
    *, agents: Sequence, reports: Sequence[ReportedTicket], tag: str, category: str = "bug", seed: int = 0,
    now: datetime | None = None,
) -> int:  # fmt: skip
    """Adds tickets with given arrivals, requesters and words (a recurring problem planted for insights' demo),
    each with a history like the others' and tagged `tag`; returns how many. Skipped (0) when a ticket already
    carries `tag`, so a second seed adds no second copy."""
    now = now or timezone.now()
    agents = [agent for agent in agents if agent.is_active]
    if not agents or not reports or Ticket.objects.filter(tags__contains=[tag]).exists():
        return 0
    rng = random.Random(seed)
    setup = ensure_setup(agents=agents, rng=random.Random(seed), today=now.date())
    ensure_macros(agents=agents, teams=setup.teams, rng=random.Random(seed + 3), now=now)
    requesters = {requester.contact_id: requester for requester in requester_pool()}
    planned = [
        Report(
            report.created, requesters[report.contact_id], category, report.subject, report.description,
            report.upset, (tag,),
        )
        for report in sorted(reports, key=lambda report: report.created)
        if report.contact_id in requesters and report.created < now
    ]  # fmt: skip
    if not planned:
        return 0
    planner = Planner(rng=rng, setup=setup, requesters=list(requesters.values()), now=now, days=1)
    return _write(planner.plan_reports(planned))[0]


def requester_pool() -> list[Requester]:
    """Every contact, oldest first: tickets are opened by people who existed at the time."""
    return [
        Requester(contact_id, customer_id, tier, (name.split() or ["there"])[0], created)
        for contact_id, customer_id, tier, name, created in contact_requester_rows()
    ]


@transaction.atomic
def _write(plans: list[Plan]) -> tuple[int, int, int]:
    messages = surveys = 0
    for start in range(0, len(plans), TICKET_BATCH):
        chunk = plans[start : start + TICKET_BATCH]
        Ticket.objects.bulk_create([plan.ticket for plan in chunk])
        thread = [message for plan in chunk for message in _attached(plan)]
        TicketMessage.objects.bulk_create(thread, batch_size=len(thread) or 1)
        TicketEvent.objects.bulk_create([event for plan in chunk for event in plan.events], batch_size=5000)
        answered = [plan.survey for plan in chunk if plan.survey is not None]
        for plan in chunk:
            if plan.survey is not None:
                plan.survey.ticket = plan.ticket
        SatisfactionSurvey.objects.bulk_create(answered, batch_size=5000)
        messages += len(thread)
        surveys += len(answered)
    _touch_updated()
    return len(plans), messages, surveys


def _attached(plan: Plan) -> list[TicketMessage]:
    for message in plan.messages:
        message.ticket = plan.ticket
    return plan.messages


def _touch_updated() -> None:
    """`updated` is auto_now (the insert time); the history's last activity is what lists sort by."""
    table = connection.ops.quote_name(Ticket._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET updated = GREATEST(created, last_customer_message_at, last_agent_message_at, "
            "solved_at, closed_at, sla_paused_at)"
        )


def _queue_learning() -> None:
    """In Celery once committed: embed the solved tickets (the memory behind "similar solved tickets"), fit the
    SLA risk model on the new history and train a first version of the ticket classifiers (the AI models page),
    minutes of work that would otherwise wait for the periodic jobs."""
    from ..services.ticket_ai.classifier import ticket_classifiers_train
    from ..tasks.sla import sla_risk_model_train_task
    from ..tasks.ticket_ai import solved_tickets_index_all_task

    enqueue_on_commit(solved_tickets_index_all_task)
    enqueue_on_commit(sla_risk_model_train_task)
    ticket_classifiers_train(force=True)  # snapshots the datasets now; each version trains in its own bulk job


def _analyze(*models) -> None:
    """Fresh planner statistics right away (autovacuum would gather them only a while after the bulk insert)."""
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


# --- Knowledge base -----------------------------------------------------------------------------------------


def seed_articles(*, author, rng: random.Random, now: datetime) -> int:
    """The demo knowledge base (sections per ticket category), indexed for semantic search. Skipped when the
    workspace has articles."""
    if Article.objects.exists():
        return 0
    with transaction.atomic():
        sections = _sections()
        articles = Article.objects.bulk_create(
            _article(demo, sections[key], author, rng, now) for key, demos in ARTICLES.items() for demo in demos
        )
    articles_reindex()  # embeds them for semantic search, in the knowledge base's own text format
    return len(articles)


def _sections() -> dict[str, ArticleCategory]:
    sections = {}
    for position, (key, (name, description)) in enumerate(SECTIONS.items(), start=1):
        sections[key], _ = ArticleCategory.objects.get_or_create(
            slug=slugify(name), defaults={"name": name, "description": description, "position": position * 10}
        )
    return sections


def _article(demo, section: ArticleCategory, author, rng: random.Random, now: datetime) -> Article:
    created = now - timedelta(days=rng.uniform(30, 400))
    published = not demo.draft
    public = published and not demo.internal
    return Article(
        title=demo.title,
        slug=slugify(demo.title)[:220],
        body=article_body(demo),
        status=Article.Status.PUBLISHED if published else Article.Status.DRAFT,
        visibility=Article.Visibility.INTERNAL if demo.internal else Article.Visibility.PUBLIC,
        category=section,
        tags=list(demo.tags),
        author=author,
        created=created,
        published_at=created + timedelta(days=rng.uniform(0, 3)) if published else None,
        view_count=int(rng.paretovariate(1.2) * 40) if public else rng.randrange(0, 30),
        helpful_yes=rng.randrange(0, 60) if public else 0,
        helpful_no=rng.randrange(0, 12) if public else 0,
    )
