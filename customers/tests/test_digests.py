"""Digests: the daily summary of a company's yesterday (grounded in its timeline) and the weekly health digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core import mail

from customers import digests, timeline
from customers.models import DailySummary, HealthDigestSent
from helpdesk.tests.factories import TicketFactory

from .factories import ContactFactory, CustomerFactory, HealthSnapshotFactory, NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def busy_company():
    """A company with a ticket and two notes on DAY, and a note the day before (not part of DAY)."""
    customer = CustomerFactory(name="Acme")
    jane = ContactFactory(customer=customer, name="Jane")
    TicketFactory(requester=jane, subject="Export to CSV fails", created=NOON)
    NoteFactory(
        customer=customer,
        created=NOON + timedelta(hours=1),
        body="Jane says the renewal depends on the CSV export. Budget approved for next year.",
    )
    NoteFactory(customer=customer, created=NOON + timedelta(hours=2), body="Call booked with their CTO on Friday.")
    NoteFactory(customer=customer, created=NOON - timedelta(days=1), body="An older note about onboarding.")
    return customer


def _source_texts(summary: DailySummary) -> dict[int, str]:
    return {source["number"]: f"{source['title']} {source['summary']}" for source in summary.sources}


# --- The day ------------------------------------------------------------------------------------


def test_yesterday_is_the_previous_calendar_day_in_the_workspace_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # still 9 March, 23:00, in New York

    since, until = digests.day_window(date(2026, 3, 8))  # US clocks go forward that day: 23 hours

    assert digests.yesterday(now) == date(2026, 3, 8)
    assert since == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert until == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)


def test_the_day_gathers_only_entries_inside_the_workspace_day(settings):
    settings.TIME_ZONE = "America/New_York"
    customer = CustomerFactory()
    inside = NoteFactory(customer=customer, created=datetime(2026, 3, 9, 3, 30, tzinfo=UTC), body="Late evening.")
    NoteFactory(customer=customer, created=datetime(2026, 3, 9, 4, 30, tzinfo=UTC), body="Next morning.")
    NoteFactory(customer=customer, created=datetime(2026, 3, 8, 4, 30, tzinfo=UTC), body="The evening before.")

    entries = digests.day_entries(customer.pk, date(2026, 3, 8))

    assert [(entry.kind, entry.id) for entry in entries] == [("note", inside.pk)]


# --- The daily summary --------------------------------------------------------------------------


def test_the_extractive_summary_counts_kinds_and_every_sentence_comes_from_a_cited_entry(busy_company):
    summary = digests.generate_daily_summary(customer=busy_company, day=DAY)

    texts = _source_texts(summary)
    counts = {row["kind"]: row["count"] for row in summary.counts}
    assert counts == {"note": 2, "ticket_opened": 1}
    assert len(summary.sources) == 3 and not summary.generated and summary.model == "extractive"
    assert summary.statements[0]["counts"] and "Notes: 2" in summary.statements[0]["text"]
    extracted = summary.statements[1:]
    assert extracted
    for statement in extracted:
        assert statement["sources"]
        for number in statement["sources"]:
            assert statement["text"].rstrip(".") in " ".join(texts[number].split())
    assert all("onboarding" not in text for text in texts.values())


def test_a_quiet_day_stores_nothing(busy_company):
    assert digests.generate_daily_summary(customer=busy_company, day=DAY + timedelta(days=5)) is None
    assert not DailySummary.objects.exists()


def test_with_a_generative_provider_the_summary_keeps_only_statements_citing_real_sources(busy_company, monkeypatch):
    asked = {}

    def generate(feature, context, **kwargs):
        asked.update(feature=feature, **context)
        return SimpleNamespace(
            text="Acme reported a failing CSV export [1]. The renewal hangs on it [2]. "
            "They will triple their seats [9]. Everyone is happy.",
            meta=SimpleNamespace(model="fake-model-1"),
        )

    monkeypatch.setattr(digests.ai, "can_generate", lambda: True)
    monkeypatch.setattr(digests.ai, "generate", generate)

    summary = digests.generate_daily_summary(customer=busy_company, day=DAY)

    assert asked["feature"] == digests.FEATURE and "[1]" in asked["sources"] and "[3]" in asked["sources"]
    assert summary.generated and summary.model == "fake-model-1"
    assert [(s["text"], s["sources"]) for s in summary.statements[1:]] == [
        ("Acme reported a failing CSV export.", [1]),
        ("The renewal hangs on it.", [2]),
    ]


def test_a_failing_generative_provider_falls_back_to_the_extractive_summary(busy_company, monkeypatch):
    def generate(feature, context, **kwargs):
        raise digests.ai.AIUnavailable("every provider failed")

    monkeypatch.setattr(digests.ai, "can_generate", lambda: True)
    monkeypatch.setattr(digests.ai, "generate", generate)

    summary = digests.generate_daily_summary(customer=busy_company, day=DAY)

    assert not summary.generated and summary.model == "extractive" and len(summary.statements) > 1


def test_a_summary_that_cannot_be_traced_to_entries_is_replaced_by_the_entries_titles(busy_company, monkeypatch):
    def summarize(text, **kwargs):  # e.g. a cloud summarizer that rewrote the sentences
        return SimpleNamespace(text="The customer is unhappy about exports and may churn.", keywords=(), meta=None)

    monkeypatch.setattr(digests.ai, "summarize", summarize)

    summary = digests.generate_daily_summary(customer=busy_company, day=DAY)

    texts = _source_texts(summary)
    assert "unhappy" not in str(summary.statements)
    for statement in summary.statements[1:]:
        assert [statement["text"].rstrip(".") in texts[n] for n in statement["sources"]] == [True]


def test_the_nightly_job_summarises_only_companies_with_activity_that_day(busy_company):
    quiet = CustomerFactory(name="Quiet")
    NoteFactory(customer=quiet, created=NOON - timedelta(days=3))

    written = digests.daily_summaries_generate(day=DAY)
    again = digests.daily_summaries_generate(day=DAY)

    assert (written, again) == (1, 1)
    assert list(DailySummary.objects.values_list("customer_id", "day")) == [(busy_company.pk, DAY)]


def test_each_provider_names_the_companies_active_that_day_in_one_query(django_assert_num_queries):
    ticket_only, note_only, task_done, quiet = (CustomerFactory(name=name) for name in ("T", "N", "D", "Q"))
    TicketFactory(customer=ticket_only, requester=ContactFactory(customer=ticket_only), created=NOON)
    NoteFactory(customer=note_only, created=NOON)
    TaskFactory(customer=task_done, created=NOON - timedelta(days=9), done=True, done_at=NOON)
    NoteFactory(customer=quiet, created=NOON - timedelta(days=3))
    TaskFactory(customer=quiet, created=NOON - timedelta(days=3))

    with django_assert_num_queries(len(timeline.providers())):
        active = timeline.active_customers(*digests.day_window(DAY))

    assert active == {ticket_only.pk, note_only.pk, task_done.pk}


def test_the_nightly_job_reads_only_the_active_companies(busy_company, monkeypatch):
    for index in range(5):
        NoteFactory(customer=CustomerFactory(name=f"Quiet {index}"), created=NOON - timedelta(days=3))
    visited = []
    summarise = digests.generate_daily_summary
    monkeypatch.setattr(
        digests,
        "generate_daily_summary",
        lambda customer, day: visited.append(customer.pk) or summarise(customer=customer, day=day),
    )

    assert digests.daily_summaries_generate(day=DAY) == 1
    assert visited == [busy_company.pk]


def test_the_jobs_are_routed_on_the_bulk_queue_and_scheduled():
    routes = django_settings.CELERY_TASK_ROUTES
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("daily_summaries_task", "daily_summaries_fanout_task", "health_digests_task"):
        assert routes[f"customers.tasks.{name}"] == {"queue": "bulk"}
    assert {"customers.tasks.daily_summaries_fanout_task", "customers.tasks.health_digests_fanout_task"} <= scheduled


# --- Page and API -------------------------------------------------------------------------------


def test_the_company_page_shows_yesterday_with_linked_sources_or_an_empty_state(client, login, busy_company):
    login("agent")
    quiet = CustomerFactory(name="Quiet")
    summary = digests.generate_daily_summary(customer=busy_company, day=DAY)
    DailySummary.objects.filter(pk=summary.pk).update(day=digests.yesterday())

    page = client.get(f"/customers/{busy_company.pk}/").content.decode()
    empty = client.get(f"/customers/{quiet.pk}/").content.decode()

    assert 'data-testid="customer-yesterday"' in page and 'id="yesterday-source-1"' in page
    assert 'href="#yesterday-source-' in page and "Notes: 2" in page
    assert 'data-testid="yesterday-empty"' in empty


def test_api_returns_the_summary_of_a_day_an_empty_one_on_a_quiet_day_and_400_on_a_bad_date(
    client, login, busy_company
):
    login("agent")
    digests.generate_daily_summary(customer=busy_company, day=DAY)
    url = f"/api/v1/customers/{busy_company.pk}/daily-summary/"

    found = client.get(url, {"date": DAY.isoformat()})
    missing = client.get(url, {"date": "2026-03-05"})
    bad = client.get(url, {"date": "yesterday-ish"})
    unknown = client.get("/api/v1/customers/999999/daily-summary/")

    body = found.json()
    assert found.status_code == 200 and body["date"] == DAY.isoformat() and len(body["sources"]) == 3
    assert body["statements"][0]["sources"] == [1, 2, 3]
    assert missing.status_code == 200 and missing.json()["statements"] == [] and missing.json()["created"] is None
    assert (bad.status_code, unknown.status_code) == (400, 404)


# --- Weekly health digest -----------------------------------------------------------------------

TODAY = date(2026, 3, 9)  # a Monday


def _driver(key: str, points: int, value: str = "") -> dict:
    return {"key": key, "label": key.upper(), "points": points, "value": value, "explanation": f"{key} says so."}


def _history(customer, was: int, now: int, before: list[dict], after: list[dict]) -> None:
    HealthSnapshotFactory(customer=customer, day=TODAY - timedelta(days=7), score=was, drivers=before)
    HealthSnapshotFactory(customer=customer, day=TODAY, score=now, drivers=after)


@pytest.fixture
def owner(make_user):
    return make_user("agent", email="owner@example.test", name="Olivia Owner")


def test_the_digest_lists_the_owners_drops_biggest_first_with_the_drivers_that_fell(
    owner, make_user, django_capture_on_commit_callbacks
):
    small, big, better = (CustomerFactory(name=n, owner=owner) for n in ("Small Drop", "Big Drop", "Better"))
    someone_elses = CustomerFactory(name="Not Yours", owner=make_user("agent"))
    _history(small, 70, 65, [_driver("csat", 5)], [_driver("csat", 0)])
    _history(
        big,
        80,
        55,
        [_driver("volume", 5), _driver("sla", 0), _driver("csat", 10)],
        [_driver("volume", -15, "3.0×"), _driver("sla", -5), _driver("csat", 10)],
    )
    _history(better, 50, 60, [], [])
    _history(someone_elses, 90, 10, [], [])

    with django_capture_on_commit_callbacks(execute=True):
        record = digests.health_digest_send(owner=owner, today=TODAY)

    drops = digests.health_drops(owner_id=owner.pk, today=TODAY)
    assert [(row["name"], row["drop"]) for row in drops] == [("Big Drop", 25), ("Small Drop", 5)]
    assert [(d["key"], d["change"]) for d in drops[0]["drivers"]] == [("volume", -20), ("sla", -5)]
    assert record.week == TODAY and len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["owner@example.test"]
    assert email.body.index("Big Drop") < email.body.index("Small Drop") and "Better" not in email.body
    assert "Not Yours" not in email.body and "VOLUME (-20 pts, now 3.0×)" in email.body
    assert f"/customers/{big.pk}/" in email.body
    html = email.alternatives[0][0]
    assert "Big Drop" in html and f"/customers/{big.pk}/" in html


def test_the_digest_is_sent_once_a_week(owner, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=owner)
    _history(customer, 80, 60, [], [])

    with django_capture_on_commit_callbacks(execute=True):
        first = digests.health_digests_send(today=TODAY)
        later_that_week = digests.health_digests_send(today=TODAY + timedelta(days=2))

    assert (first, later_that_week) == (1, 0)
    assert len(mail.outbox) == 1 and HealthDigestSent.objects.filter(owner=owner).count() == 1


def test_no_email_when_nothing_dropped(owner, django_capture_on_commit_callbacks):
    steady, unscored = CustomerFactory(owner=owner), CustomerFactory(owner=owner)
    _history(steady, 70, 70, [], [])
    HealthSnapshotFactory(customer=unscored, day=TODAY, score=20)  # no score a week ago: no drop to report

    with django_capture_on_commit_callbacks(execute=True):
        sent = digests.health_digests_send(today=TODAY)

    assert sent == 0 and mail.outbox == [] and not HealthDigestSent.objects.exists()
