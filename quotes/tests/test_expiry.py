"""Expiry from beat: sent and viewed quotes past their validity date become expired (and only those, once, on the
timelines), and their owner is reminded once before, again after a new validity date."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from customers.contracts import TimelineQuery
from leads import services as lead_services
from quotes import panels, reminders, services, timeline
from quotes.models import EventKind, Quote, QuoteEvent, QuoteStatus
from quotes.tasks import expiry_reminders_send_task, quotes_expire_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(make_user):
    return make_user("sales", email="sam@example.test", name="Sam Seller")


@pytest.fixture
def out(customer, product, seller):
    """A sent quote of `seller` for the customer, valid until the given day, sent at `sent` (30 days ago)."""

    def make(valid_until: datetime.date, *, status: str = QuoteStatus.SENT, sent: datetime.datetime | None = None):
        quote = services.quote_create(actor=seller, customer_id=customer.pk, title="Rollout", valid_until=valid_until)
        services.quote_line_add(quote=quote, actor=seller, product=product)
        quote = services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=seller)
        if status != QuoteStatus.SENT:
            reason = "Too dear" if status == QuoteStatus.DECLINED else ""
            quote = services.quote_status_set(quote=quote, status=status, actor=None, reason=reason)
        Quote.objects.filter(pk=quote.pk).update(sent_at=sent or timezone.now() - datetime.timedelta(days=30))
        return Quote.objects.get(pk=quote.pk)

    return make


def _day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def test_only_sent_and_viewed_quotes_past_their_date_expire_and_a_second_run_changes_nothing(out, customer, seller):
    sent_past, viewed_past = out(_day(-1)), out(_day(-40), status=QuoteStatus.VIEWED)
    untouched = [
        out(_day(0)),  # valid through today
        out(_day(5)),
        out(_day(-3), status=QuoteStatus.ACCEPTED),
        out(_day(-3), status=QuoteStatus.DECLINED),
        services.quote_create(actor=seller, customer_id=customer.pk, valid_until=_day(-3)),  # a draft
    ]
    before = {quote.pk: (quote.status, quote.version) for quote in untouched}

    assert quotes_expire_task() == 2
    assert services.quotes_expire_due() == 0

    for quote in (sent_past, viewed_past):
        quote.refresh_from_db()
        assert quote.status == QuoteStatus.EXPIRED and quote.closed_at is not None
    assert {q.pk: (q.status, q.version) for q in Quote.objects.filter(pk__in=before)} == before
    expiries = QuoteEvent.objects.filter(kind=EventKind.STATUS, to_status=QuoteStatus.EXPIRED)
    assert sorted(expiries.values_list("quote_id", flat=True)) == sorted([sent_past.pk, viewed_past.pk])
    assert all(event.actor_id is None for event in expiries)  # nobody did it: the beat job


def test_an_expiry_is_on_the_company_s_and_the_lead_s_timeline(customer, product, seller, make_user):
    lead = lead_services.lead_create(actor=None, title="Initrode helpdesk", customer=customer)
    quote = services.quote_create(actor=seller, lead_id=lead.pk, valid_until=_day(-1))
    services.quote_line_add(quote=quote, actor=seller, product=product)
    services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=seller)

    services.quotes_expire_due()

    query = TimelineQuery(
        customer_id=customer.pk, contact_id=None, kinds=frozenset(k.name for k in timeline.KINDS), limit=10
    )
    assert timeline.timeline_entries(query)[0].title == f"Quote {quote.reference} expired"
    lead_panel = panels.lead_context(lead.pk, make_user("sales"))
    assert lead_panel["events"][0].to_status == QuoteStatus.EXPIRED


def test_expiry_runs_in_batches_and_takes_every_due_quote(out):
    quotes = [out(_day(-2)) for _ in range(5)]
    assert services.quotes_expire_due(batch=2) == 5
    assert set(Quote.objects.filter(pk__in=[q.pk for q in quotes]).values_list("status", flat=True)) == {"expired"}


def test_an_answer_that_lands_first_wins_over_the_expiry(out):
    quote = out(_day(-1))
    services.quote_status_set(quote=quote, status=QuoteStatus.ACCEPTED, actor=None)
    assert services.quotes_expire_due() == 0
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ACCEPTED


def test_the_owner_is_reminded_once_before_expiry_with_a_link(out, django_capture_on_commit_callbacks):
    days = settings.QUOTE_EXPIRY_REMINDER_DAYS
    due = out(_day(days))
    out(_day(days + 1))  # not yet
    out(_day(1), status=QuoteStatus.DECLINED)  # answered
    out(_day(-1))  # already past: the expiry job's, not a reminder
    out(_day(1), sent=timezone.now())  # sent inside the window: its owner has just seen it

    with django_capture_on_commit_callbacks(execute=True):
        first = expiry_reminders_send_task()
    with django_capture_on_commit_callbacks(execute=True):
        second = expiry_reminders_send_task()

    assert (first, second) == (1, 0)
    (email,) = mail.outbox
    assert email.to == ["sam@example.test"]
    assert email.subject.startswith(f"{due.reference} for Initrode expires on ") and "follow up" in email.subject
    assert f"/quotes/{due.pk}/" in email.body and f"in {days} days" in email.body
    assert due.reference in email.alternatives[0][0]
    assert Quote.objects.get(pk=due.pk).expiry_reminded_at is not None


def test_a_new_validity_date_re_arms_the_reminder(out, seller, django_capture_on_commit_callbacks):
    quote = out(_day(2))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.expiry_reminders_send() == 1

    # A new date reopens the quote as the next revision; sent again, its owner hears again before the new date.
    services.quote_update(quote=quote, actor=seller, data={"valid_until": _day(20)})
    assert Quote.objects.get(pk=quote.pk).expiry_reminded_at is None
    services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=seller)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.expiry_reminders_send() == 0  # 20 days away
    later = timezone.now() + datetime.timedelta(days=18)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.expiry_reminders_send(now=later) == 1
    assert len(mail.outbox) == 2


def test_an_inactive_owner_gets_no_reminder(out, seller, django_capture_on_commit_callbacks):
    out(_day(1))
    seller.is_active = False
    seller.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.expiry_reminders_send() == 0
    assert mail.outbox == []


def test_expiry_and_its_reminder_are_scheduled_and_routed():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"quotes.tasks.quotes_expire_fanout_task", "quotes.tasks.expiry_reminders_fanout_task"} <= tasks
    for name in ("quotes_expire_task", "quotes_expire_fanout_task", "expiry_reminders_send_task"):
        assert settings.CELERY_TASK_ROUTES[f"quotes.tasks.{name}"] == {"queue": "default"}
