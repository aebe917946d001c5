"""Quote metrics on handmade quotes: cycle times (median, p90), win rate overall and per owner, the empty state, a
constant number of queries; shown on the pipeline metrics page (through leads' card hook) and on the quote list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from leads.tests.factories import PipelineFactory
from quotes import metrics
from quotes.models import QuoteStatus

from .factories import QuoteFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _quote(owner, status: str, *, created: int, closed: int | None = None, sent: int | None = None):
    """A quote created `created` days ago, sent and closed so many days ago (None: not)."""

    def ago(days: int | None):
        return None if days is None else NOW - timedelta(days=days)

    return QuoteFactory(owner=owner, status=status, created=ago(created), sent_at=ago(sent), closed_at=ago(closed))


@pytest.fixture
def history():
    ann, bob = UserFactory(name="Ann"), UserFactory(name="Bob")
    _quote(ann, QuoteStatus.ACCEPTED, created=20, sent=18, closed=10)  # 10 days from creation, 8 from sending
    _quote(ann, QuoteStatus.DECLINED, created=30, sent=28, closed=24)  # 6 and 4
    _quote(ann, QuoteStatus.EXPIRED, created=50, sent=49, closed=5)  # counts against the win rate, not the cycle
    _quote(bob, QuoteStatus.ACCEPTED, created=16, sent=15, closed=2)  # 14 and 13
    _quote(bob, QuoteStatus.ACCEPTED, created=8, closed=6)  # accepted without a recorded send: 2, no send cycle
    _quote(bob, QuoteStatus.ACCEPTED, created=230, sent=220, closed=200)  # before the period
    _quote(bob, QuoteStatus.SENT, created=3, sent=2)  # still out
    _quote(ann, QuoteStatus.DRAFT, created=1)
    return ann, bob


def test_win_rate_and_cycle_times_over_the_period(history):
    result = metrics.quote_metrics(days=90, now=NOW)

    assert (result.accepted, result.declined, result.expired) == (3, 1, 1)
    assert result.win_rate == pytest.approx(0.6)
    # Created → answer: 2, 6, 10, 14 days; sent → answer: 4, 8, 13 (continuous percentiles).
    assert result.created_to_answer.count == 4
    assert result.created_to_answer.median_days == pytest.approx(8.0)
    assert result.created_to_answer.p90_days == pytest.approx(12.8)
    assert result.sent_to_answer.count == 3
    assert result.sent_to_answer.median_days == pytest.approx(8.0)
    assert result.sent_to_answer.p90_days == pytest.approx(12.0)


def test_per_owner_figures_best_win_rate_first(history):
    ann, bob = history
    first, second = metrics.quote_metrics(days=90, now=NOW).by_owner

    assert (first.owner_id, first.label, first.win_rate, first.closed) == (bob.pk, "Bob", 1.0, 2)
    assert first.sent_to_answer.median_days == pytest.approx(13.0) and first.sent_to_answer.count == 1
    assert (second.owner_id, second.win_rate, second.expired) == (ann.pk, pytest.approx(1 / 3), 1)
    assert second.sent_to_answer.median_days == pytest.approx(6.0)


def test_a_longer_period_reaches_older_answers(history):
    assert metrics.quote_metrics(days=365, now=NOW).accepted == 4


def test_no_closed_quote_gives_no_figures_rather_than_zeros(db):
    _quote(UserFactory(), QuoteStatus.SENT, created=3, sent=2)
    result = metrics.quote_metrics(days=90, now=NOW)

    assert result.closed == 0 and result.win_rate is None and result.by_owner == []
    assert not result.created_to_answer.known and result.created_to_answer.median_days is None
    assert result.sent_to_answer.p90_days is None


def test_metrics_cost_two_queries_whatever_the_number_of_quotes(history, django_assert_num_queries):
    for _ in range(5):
        _quote(UserFactory(), QuoteStatus.DECLINED, created=9, sent=8, closed=1)
    with django_assert_num_queries(2):
        metrics.quote_metrics(days=90, now=NOW)


def test_the_pipeline_metrics_page_shows_the_quote_card(client, login, history):
    login("viewer")
    url = reverse("leads:pipeline_metrics", args=[PipelineFactory().pk])

    html = client.get(url).content.decode()
    assert 'data-testid="metrics-quotes"' in html
    assert 'data-testid="quote-win-rate">60%' in html
    assert 'data-testid="quote-cycle-created">8.0 days' in html and "p90 12.8 days" in html
    assert 'data-testid="quote-cycle-sent">8.0 days' in html
    assert "3 accepted, 1 declined, 1 expired" in html
    table = html[html.index('data-testid="quote-metrics-by-owner"') :]
    assert table.index("Bob") < table.index("Ann") and "13.0 days" in table
    older = client.get(url, {"days": "365"}).content.decode()
    assert "4 accepted, 1 declined, 1 expired" in older


def test_the_pipeline_metrics_page_says_when_no_quote_closed(client, login):
    login("sales")
    html = client.get(reverse("leads:pipeline_metrics", args=[PipelineFactory().pk])).content.decode()
    assert 'data-testid="quote-metrics-empty"' in html


def test_the_quote_list_shows_the_summary_strip(client, login, history):
    login("sales")
    html = client.get(reverse("quotes:quote_list")).content.decode()
    strip = html[html.index('data-testid="quote-metrics-strip"') : html.index('id="quote-filters"')]
    assert 'data-testid="quote-win-rate">60%' in strip and "3 accepted, 1 declined, 1 expired" in strip
