"""Rollup upkeep: each change of a ticket, lead, quote or AI run moves its counters once it commits (one upsert), a
varied history kept by events equals a from-scratch recount exactly, and the repair is exact and idempotent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ai.tests.factories import AIFeedbackFactory, AIRunFactory
from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.models import SatisfactionSurvey, Ticket
from helpdesk.tests.factories import CategoryFactory, SLAPolicyFactory, TeamFactory, TicketFactory
from insights import rollups, services
from insights.models import GRAINS, DailyRollup, RollupSource
from leads.models import Lead, Stage
from leads.tests.factories import LeadFactory, PipelineFactory, StageFactory
from quotes.models import Quote, QuoteStatus
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()  # replaced per test (_now_per_test)


@pytest.fixture(autouse=True)
def _now_per_test(monkeypatch):
    """NOW taken per test, not at import: the repair's window ends today as the service sees it, so rows planted
    relative to a NOW from before midnight would fall out of it."""
    monkeypatch.setitem(globals(), "NOW", timezone.now())


@pytest.fixture(autouse=True)
def _upkeep_on_events(settings):
    settings.INSIGHTS_ROLLUPS_ON_EVENTS = True  # off in other apps' tests (config/settings/test.py)


def ago(days: float, hours: float = 0):
    return NOW - timedelta(days=days, hours=hours)


def stored() -> dict[tuple, tuple[int, int]]:
    """The rollup table as {key: (count, total)}, empty counters left out (a decrement can leave one behind)."""
    fields = (*rollups.KEY_COLUMNS, "count", "total")
    return {
        (row[0], row[1].isoformat(), *row[2:-2]): (row[-2], row[-1])
        for row in DailyRollup.objects.exclude(count=0, total=0).values_list(*fields)
    }


def recounted() -> dict[tuple, tuple[int, int]]:
    result = {}
    for kind in rollups.KINDS:
        for key, (count, total) in rollups.recount(kind).items():
            if count or total:
                result[key] = (count, total)
    return result


def test_no_upkeep_is_queued_when_events_are_off(settings, django_capture_on_commit_callbacks):
    settings.INSIGHTS_ROLLUPS_ON_EVENTS = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        TicketFactory()
    assert not callbacks
    assert not DailyRollup.objects.exists()


def test_a_new_ticket_is_counted_once_its_transaction_commits(django_capture_on_commit_callbacks):
    team = TeamFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(team=team, channel="email", priority="high", created=ago(1))
        assert not DailyRollup.objects.exists()  # nothing before the commit

    created = DailyRollup.objects.get(metric="created", grain="detail")
    assert DailyRollup.objects.get(metric="created", grain="all").count == 1
    assert (created.day, created.team_id, created.channel, created.priority) == (
        ago(1).date(),
        team.pk,
        "email",
        "high",
    )
    assert created.count == 1
    assert RollupSource.objects.get(kind="ticket", source_id=ticket.pk).contributions


def test_one_event_costs_a_constant_handful_of_queries_with_one_upsert():
    ticket = TicketFactory(created=ago(3), first_responded_at=ago(2), status="solved", solved_at=ago(1))
    with CaptureQueriesContext(connection) as queries:
        services.rollups_refresh(kind="ticket", ids=[ticket.pk])
    upserts = [q["sql"] for q in queries.captured_queries if "ON CONFLICT" in q["sql"] and "dailyrollup" in q["sql"]]
    assert len(upserts) == 1
    assert len(queries) <= 5  # savepoint, the locks, the fact, the ledger's and counters' one write, release
    assert DailyRollup.objects.get(metric="solved", grain="team").total == 2 * 86400


def test_a_ticket_moving_team_moves_its_counts_and_a_repeat_changes_nothing():
    first, second = TeamFactory(), TeamFactory()
    ticket = TicketFactory(team=first, created=ago(2))
    services.rollups_refresh(kind="ticket", ids=[ticket.pk])
    Ticket.objects.filter(pk=ticket.pk).update(team=second)
    services.rollups_refresh(kind="ticket", ids=[ticket.pk])
    services.rollups_refresh(kind="ticket", ids=[ticket.pk])

    counts = dict(DailyRollup.objects.filter(metric="created", grain="team").values_list("team_id", "count"))
    assert counts == {first.pk: 0, second.pk: 1}
    assert DailyRollup.objects.get(metric="created", grain="all").count == 1


def test_an_event_that_changes_no_count_writes_nothing():
    ticket = TicketFactory(created=ago(2))
    services.rollups_refresh(kind="ticket", ids=[ticket.pk])

    def ledger_row_version() -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ctid::text FROM insights_rollupsource WHERE kind = 'ticket' AND source_id = %s", [ticket.pk]
            )
            return cursor.fetchone()[0]

    before = ledger_row_version()
    assert services.rollups_refresh(kind="ticket", ids=[ticket.pk]) == 0  # a save of a field no count reads
    assert ledger_row_version() == before  # an update would have written a new row version


def _varied_history(capture) -> None:
    """Tickets, leads, quotes and AI runs written and changed in separate transactions, the way the apps do."""
    teams = [TeamFactory(), TeamFactory()]
    categories = [CategoryFactory(), CategoryFactory()]
    agents = [UserFactory(), UserFactory()]
    policy = SLAPolicyFactory()
    contacts = [ContactFactory(customer=CustomerFactory(tier=tier)) for tier in ("starter", "enterprise")]
    tickets = []
    with capture(execute=True):
        for n in range(12):
            tickets.append(
                TicketFactory(
                    requester=contacts[n % 2],
                    team=teams[n % 2],
                    category=categories[n % 3 // 2],
                    assignee=agents[n % 2] if n % 4 else None,
                    channel=("email", "chat", "phone")[n % 3],
                    priority=("low", "normal", "high", "urgent")[n % 4],
                    sla_policy=policy if n % 2 else None,
                    created=ago(20 - n, hours=n),
                )
            )
    for n, ticket in enumerate(tickets):
        with capture(execute=True):
            if n % 3 != 2:
                ticket.first_responded_at = ticket.created + timedelta(minutes=7 * (n + 1) ** 2)
                ticket.status = "open"
                ticket.save(update_fields=["first_responded_at", "status"])
            if n % 2 == 0:
                ticket.status, ticket.solved_at = "solved", ticket.created + timedelta(hours=3 * n + 1)
                ticket.save()
            if n % 5 == 1:
                ticket.sla_breached = True
                ticket.save(update_fields=["sla_breached"])
    with capture(execute=True):
        tickets[0].status = "open"  # reopened: no longer solved
        tickets[0].save()
        tickets[1].team = teams[0]  # moved
        tickets[1].save(update_fields=["team"])
        tickets[4].delete()
        for n in (2, 6, 8):
            SatisfactionSurvey.objects.create(ticket=tickets[n], rating=n % 5 + 1, answered_at=tickets[n].solved_at)
    with capture(execute=True):
        survey = tickets[6].survey
        survey.rating = 2  # changed their mind
        survey.save(update_fields=["rating"])

    pipeline = PipelineFactory()
    stages = {kind: StageFactory(pipeline=pipeline, kind=kind) for kind in (Stage.Kind.OPEN, "won", "lost")}
    leads = []
    with capture(execute=True):
        for n in range(6):
            leads.append(
                LeadFactory(
                    stage=stages[Stage.Kind.OPEN],
                    owner=agents[n % 2],
                    value=Decimal("1000.50") * (n + 1),
                    currency=("USD", "EUR")[n % 2],
                    source=("website", "referral")[n % 2],
                    created=ago(15 - n),
                )
            )
    for n, lead in enumerate(leads[:4]):
        with capture(execute=True):
            kind = "won" if n % 2 == 0 else "lost"
            lead.stage = stages[kind]
            setattr(lead, f"{kind}_at", ago(5 - n))
            lead.save()
    with capture(execute=True):
        leads[5].value = Decimal("99.99")
        leads[5].save(update_fields=["value"])

    quotes = []
    with capture(execute=True):
        for n in range(6):
            quotes.append(QuoteFactory(owner=agents[n % 2], total=Decimal("250.125") * (n + 1), created=ago(12 - n)))
    for n, (status, closed) in enumerate(
        [(QuoteStatus.ACCEPTED, 2), (QuoteStatus.DECLINED, 3), (QuoteStatus.EXPIRED, 1), (QuoteStatus.SENT, None)]
    ):
        with capture(execute=True):
            quote = quotes[n]
            quote.status, quote.sent_at = QuoteStatus.SENT, ago(8 - n)
            quote.save()
        with capture(execute=True):
            quote.status = status
            quote.closed_at = ago(closed) if closed is not None else None
            quote.save()

    with capture(execute=True):
        runs = [
            AIRunFactory(
                feature=("summarize", "draft")[n % 2],
                provider=("local", "openai")[n % 2],
                cost_usd=Decimal("0.001234") * n,
                created=ago(n),
            )
            for n in range(5)
        ]
    with capture(execute=True):
        AIFeedbackFactory(run=runs[1], outcome="accepted", edit_distance=None)
        AIFeedbackFactory(run=runs[2], outcome="edited", edit_distance=17)
        AIFeedbackFactory(run=runs[3], outcome="rejected", edit_distance=None)


def test_rollups_kept_by_events_equal_a_recount_from_scratch(django_capture_on_commit_callbacks):
    _varied_history(django_capture_on_commit_callbacks)

    kept = stored()
    assert kept == recounted()
    assert {key[0] for key in kept} == set(GRAINS)
    metrics = {key[2] for key in kept}
    assert {"created", "first_response", "solved", "csat", "sla_tracked", "sla_breached"} <= metrics
    assert {"lead_created", "lead_won", "lead_lost", "lead_cycle", "quote_accepted", "quote_cycle", "ai_run"} <= metrics
    assert {"ai_accepted", "ai_edited", "ai_rejected", "ai_edit_distance", "quote_declined", "quote_expired"} <= metrics


def test_repair_catches_writes_that_sent_no_event_and_is_idempotent(django_capture_on_commit_callbacks):
    _varied_history(django_capture_on_commit_callbacks)
    # Writes that bypass post_save: a bulk update today, a ledger that lost a row, an extra counter.
    Ticket.objects.filter(status="solved").update(priority="urgent")
    Lead.objects.filter(currency="EUR").update(owner=None)
    Quote.objects.filter(status=QuoteStatus.DRAFT).update(created=ago(0))
    DailyRollup.objects.create(day=ago(1).date(), metric="created", grain="channel", channel="sms", count=5)
    assert stored() != recounted()

    first = services.rollups_repair_recent(days=2)
    after_first = stored()
    services.rollups_repair_recent(days=2)

    assert after_first == recounted()
    assert stored() == after_first
    assert first.sources > 0


def test_full_rebuild_equals_the_recount_and_the_ledger(django_capture_on_commit_callbacks):
    _varied_history(django_capture_on_commit_callbacks)
    DailyRollup.objects.all().delete()
    RollupSource.objects.all().delete()

    services.rollups_repair_recent(days=0)

    assert stored() == recounted()
    # The ledger is complete again: the next event applies an exact delta.
    ticket = Ticket.objects.order_by("pk").first()
    ticket.status = "closed"
    ticket.solved_at = ticket.created + timedelta(hours=5)
    ticket.save()
    services.rollups_refresh(kind="ticket", ids=[ticket.pk])
    assert stored() == recounted()


def test_upkeep_inside_a_callers_transaction_leaves_its_settings_alone():
    # Upkeep run as a task commits without waiting for the disk and forces generic plans (rollups._lock); a
    # transaction it joins is someone else's, so its commit and plans keep the server's settings.
    def current() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('synchronous_commit'), current_setting('plan_cache_mode')")
            return cursor.fetchone()

    before = current()
    services.rollups_refresh(kind="ticket", ids=[TicketFactory(created=ago(1)).pk])
    assert current() == before == ("on", "auto")
    assert DailyRollup.objects.get(metric="created", grain="all").count == 1


def test_an_events_facts_read_by_id_equal_those_the_repair_reads(django_capture_on_commit_callbacks):
    # Each facade reads an event's few rows with a statement compiled once, the repair's many through the ORM.
    _varied_history(django_capture_on_commit_callbacks)
    for kind in rollups.KINDS:
        everything = {fact.id: fact for fact in rollups.FACTS[kind]()}
        some = [*sorted(everything)[::2], 10**9]  # and an id that does not exist
        assert {fact.id: fact for fact in rollups.FACTS[kind](ids=some)} == {pk: everything[pk] for pk in some[:-1]}
