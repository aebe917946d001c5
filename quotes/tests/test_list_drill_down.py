"""The quote list's drill-down parameters (a dashboard's figure links to the quotes behind it): created, sent and
answered day ranges in settings.TIME_ZONE, owner (or nobody), status and currency; kept through pages and
fragments; and the count the list shows for a filter equals what quote_rollup_facts count."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.testing.zones import in_november_2026, local
from quotes import views
from quotes.facade import quote_rollup_facts
from quotes.models import Quote

from .factories import QuoteFactory

pytestmark = pytest.mark.django_db

LIST = reverse("quotes:quote_list")
HTMX = {"HTTP_HX_REQUEST": "true"}
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def listed(client, params: dict) -> set[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {quote.pk for quote in response.context["page"].items}


def _quote(prefix: str, at: datetime) -> Quote:
    if prefix == "created":
        return QuoteFactory(created=at)
    if prefix == "sent":
        return QuoteFactory(status="sent", created=at - timedelta(days=2), sent_at=at)
    return QuoteFactory(status="accepted", created=at - timedelta(days=5), sent_at=at - timedelta(days=2), closed_at=at)


@pytest.mark.parametrize("prefix", ["created", "sent", "answered"])
def test_day_range_takes_its_first_and_last_day_in_the_workspace_time_zone(client, login, tokyo, prefix):
    login("viewer")
    day_before = _quote(prefix, local(tokyo, date(2026, 10, 31), 23, 59))
    first_moment = _quote(prefix, local(tokyo, date(2026, 11, 1)))  # 31 October in UTC
    last_moment = _quote(prefix, local(tokyo, date(2026, 11, 30), 23, 59))
    day_after = _quote(prefix, local(tokyo, date(2026, 12, 1)))  # 30 November in UTC

    assert listed(client, {f"{prefix}_from": NOVEMBER["from"], f"{prefix}_to": NOVEMBER["to"]}) == {
        first_moment.pk,
        last_moment.pk,
    }
    assert listed(client, {f"{prefix}_from": "2026-12-01"}) == {day_after.pk}
    assert listed(client, {f"{prefix}_to": "2026-10-31"}) == {day_before.pk}


def test_answered_means_accepted_declined_or_expired_as_the_rollup_counts(client, login, tokyo):
    login("viewer")
    moment = local(tokyo, date(2026, 11, 10), 12)
    answered = {QuoteFactory(status=status, closed_at=moment).pk for status in ("accepted", "declined", "expired")}
    QuoteFactory(status="draft", closed_at=moment)  # reopened for a new revision: closed_at is left behind

    assert listed(client, {"answered_from": "2026-11-10", "answered_to": "2026-11-10"}) == answered
    declined = listed(client, {"answered_from": "2026-11-10", "status": "declined"})
    assert len(declined) == 1 and declined < answered


def test_owner_none_currency_and_status_filters(client, login):
    me = login("sales")
    nobodys = QuoteFactory(owner=None, currency="EUR")
    mine = QuoteFactory(owner=me, currency="USD", status="sent")

    assert listed(client, {"owner": "none"}) == {nobodys.pk}
    assert listed(client, {"owner": "me"}) == {mine.pk}
    assert listed(client, {"currency": "eur"}) == {nobodys.pk}
    assert listed(client, {"status": "sent"}) == {mine.pk}


def test_one_invalid_value_is_ignored_and_the_other_filters_still_apply(client, login):
    login("viewer")
    euro = QuoteFactory(currency="EUR")
    QuoteFactory(currency="USD")

    response = client.get(LIST, {"currency": "EUR", "created_from": "2026-13-01", "sent_to": "soon", "owner": "x"})

    assert response.status_code == 200
    assert {quote.pk for quote in response.context["page"].items} == {euro.pk}


def test_date_filters_show_as_labelled_inputs_and_removable_chips(client, login):
    login("viewer")

    html = client.get(LIST, {"sent_from": "2026-11-01", "sent_to": "2026-11-30", "owner": "none"}).content.decode()

    assert re.search(r'<details[^>]*data-testid="quote-day-ranges" open>', html)
    assert '<label class="visually-hidden" for="quote-sent_from">Sent from</label>' in html
    assert re.search(r'<input type="date" id="quote-sent_from" name="sent_from" value="2026-11-01"', html)
    assert re.search(r'<option value="none" selected>Nobody</option>', html)
    assert "Sent 1 Nov 2026 – 30 Nov 2026" in html
    chip = re.search(r'<a [^>]*href="([^"]+)"[^>]*data-testid="quote-day-chip"', html)
    assert chip.group(1) == f"{LIST}?owner=none"


def test_drill_down_survives_the_next_page_and_the_table_fragment(client, login, tokyo, monkeypatch):
    login("viewer")
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    inside = {_quote("answered", local(tokyo, date(2026, 11, day), 9)).pk for day in (2, 3, 4)}
    _quote("answered", local(tokyo, date(2026, 12, 2), 9))
    params = {"answered_from": "2026-11-01", "answered_to": "2026-11-30"}

    first = client.get(LIST, params)
    second = client.get(
        LIST, {**params, "cursor": first.context["page"].next_cursor}, **HTMX, HTTP_HX_TARGET="quote-table"
    )

    assert first.context["page"].total == 3
    next_link = re.search(r'rel="next" data-testid="page-next" href="([^"]+)"', first.content.decode()).group(1)
    assert "answered_from=2026-11-01" in next_link and "answered_to=2026-11-30" in next_link
    assert "<html" not in second.content.decode() and "Answered 1 Nov 2026 – 30 Nov 2026" in second.content.decode()
    shown = {quote.pk for quote in first.context["page"].items} | {quote.pk for quote in second.context["page"].items}
    assert shown == inside


def test_api_list_takes_the_same_parameters(client, login, tokyo):
    login("viewer")
    inside = _quote("sent", local(tokyo, date(2026, 11, 1)))
    _quote("sent", local(tokyo, date(2026, 12, 1)))

    response = client.get(reverse("quotes_api:quote_list"), {"sent_from": "2026-11-01", "sent_to": "2026-11-30"})

    assert [row["id"] for row in response.json()["results"]] == [inside.pk]


# --- The list counts what the dashboard counts ----------------------------------------------------------------


def test_list_counts_equal_the_rollup_facts_counts(client, login, tokyo):
    login("viewer")
    chance = random.Random(20261130)
    owners = [UserFactory(), UserFactory()]
    start = local(tokyo, date(2026, 10, 27))
    for _ in range(50):
        created = start + timedelta(minutes=chance.randrange(0, 40 * 24 * 60))
        status = chance.choice(["draft", "sent", "viewed", "accepted", "declined", "expired"])
        sent = created + timedelta(minutes=chance.randrange(1, 4 * 24 * 60)) if status != "draft" else None
        closed = sent + timedelta(minutes=chance.randrange(1, 6 * 24 * 60)) if sent else None
        QuoteFactory(
            created=created,
            status=status,
            owner=chance.choice([None, *owners]),
            currency=chance.choice(["USD", "EUR"]),
            total=Decimal(chance.randrange(100, 10_000)),
            sent_at=sent,
            # A quote reopened for a new revision keeps no answer, but may keep an old closed time.
            closed_at=closed if status in ("accepted", "declined", "expired") or chance.random() < 0.2 else None,
        )
    facts = list(quote_rollup_facts())
    owner = owners[1].pk

    def answered(fact, status: str | None = None) -> bool:  # insights.rollups._quote's quote_<status>
        statuses = (status,) if status else ("accepted", "declined", "expired")
        return fact.status in statuses and fact.closed_at is not None and in_november_2026(fact.closed_at)

    created = {f"created_{end}": day for end, day in NOVEMBER.items()}
    answers = {f"answered_{end}": day for end, day in NOVEMBER.items()}
    cases = [
        (created, lambda f: in_november_2026(f.created)),
        ({f"sent_{end}": day for end, day in NOVEMBER.items()}, lambda f: in_november_2026(f.sent_at)),
        (answers, answered),
        (answers | {"status": "accepted"}, lambda f: answered(f, "accepted")),
        (answers | {"status": "expired", "currency": "EUR"}, lambda f: answered(f, "expired") and f.currency == "EUR"),
        (created | {"owner": str(owner)}, lambda f: in_november_2026(f.created) and f.owner_id == owner),
        (created | {"owner": "none"}, lambda f: in_november_2026(f.created) and f.owner_id is None),
    ]
    for params, keep in cases:
        assert client.get(LIST, params).context["page"].total == sum(1 for f in facts if keep(f)), params
    assert sum(1 for f in facts if answered(f)) > 0
