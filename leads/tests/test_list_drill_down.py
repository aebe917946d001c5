"""The lead list's drill-down parameters (a dashboard's figure links to the leads behind it): created, won and lost
day ranges in settings.TIME_ZONE and the currency; kept through pages, fragments and saved views; and the count the
list shows for a filter equals what lead_rollup_facts count."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from core.testing.zones import in_november_2026, local
from leads import views_lists
from leads.facade import lead_rollup_facts
from leads.models import Lead, LeadSavedView

from .factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("leads:lead_list")
HTMX = {"HTTP_HX_REQUEST": "true"}
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def listed(client, params: dict) -> set[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {lead.pk for lead in response.context["page"].items}


def _lead(stages, prefix: str, at: datetime) -> Lead:
    if prefix == "created":
        return LeadFactory(stage=stages["Prospect"], created=at)
    if prefix == "won":
        return LeadFactory(stage=stages["Won"], created=at - timedelta(days=9), won_at=at)
    return LeadFactory(stage=stages["Lost"], created=at - timedelta(days=9), lost_at=at)


@pytest.mark.parametrize("prefix", ["created", "won", "lost"])
def test_day_range_takes_its_first_and_last_day_in_the_workspace_time_zone(client, login, stages, tokyo, prefix):
    login("viewer")
    day_before = _lead(stages, prefix, local(tokyo, date(2026, 10, 31), 23, 59))
    first_moment = _lead(stages, prefix, local(tokyo, date(2026, 11, 1)))  # 31 October in UTC
    last_moment = _lead(stages, prefix, local(tokyo, date(2026, 11, 30), 23, 59))
    day_after = _lead(stages, prefix, local(tokyo, date(2026, 12, 1)))  # 30 November in UTC

    assert listed(client, {f"{prefix}_from": NOVEMBER["from"], f"{prefix}_to": NOVEMBER["to"]}) == {
        first_moment.pk,
        last_moment.pk,
    }
    assert listed(client, {f"{prefix}_from": "2026-12-01"}) == {day_after.pk}
    assert listed(client, {f"{prefix}_to": "2026-10-31"}) == {day_before.pk}


def test_won_range_leaves_out_a_lead_no_longer_in_a_won_stage(client, login, stages, tokyo):
    login("viewer")
    moment = local(tokyo, date(2026, 11, 10), 12)
    won = LeadFactory(stage=stages["Won"], won_at=moment)
    LeadFactory(stage=stages["Prospect"], won_at=moment)  # reopened by a bulk update: the rollup skips it too

    assert listed(client, {"won_from": "2026-11-10", "won_to": "2026-11-10"}) == {won.pk}


def test_currency_filter_takes_three_letters_in_any_case(client, login, stages):
    login("viewer")
    euro = LeadFactory(stage=stages["Prospect"], currency="EUR")
    LeadFactory(stage=stages["Prospect"], currency="USD")

    assert listed(client, {"currency": "eur"}) == {euro.pk}


def test_invalid_drill_down_values_are_ignored_not_an_error(client, login, stages):
    login("viewer")
    leads = {LeadFactory(stage=stages["Prospect"]).pk, LeadFactory(stage=stages["Won"]).pk}

    response = client.get(
        LIST, {"created_from": "2026-13-01", "won_to": "30/11/2026", "lost_from": "soon", "currency": "euro"}
    )

    assert response.status_code == 200
    assert {lead.pk for lead in response.context["page"].items} == leads
    assert response.context["params"] == {}


def test_date_filters_show_as_labelled_inputs_and_removable_chips(client, login, stages):
    login("viewer")

    html = client.get(LIST, {"won_from": "2026-11-01", "won_to": "2026-11-30", "currency": "EUR"}).content.decode()

    assert re.search(r'<details[^>]*data-testid="lead-day-ranges" open>', html)
    assert '<label class="visually-hidden" for="lead-won_from">Won from</label>' in html
    assert re.search(r'<input type="date" id="lead-won_to" name="won_to" value="2026-11-30"', html)
    assert 'name="currency" value="EUR"' in html
    assert "Won 1 Nov 2026 – 30 Nov 2026" in html
    chip = re.search(r'<a [^>]*href="([^"]+)"[^>]*data-testid="lead-day-chip"', html)
    assert chip.group(1) == f"{LIST}?currency=EUR"


def test_drill_down_survives_the_next_page_and_the_table_fragment(client, login, stages, tokyo, monkeypatch):
    login("viewer")
    monkeypatch.setattr(views_lists, "PAGE_SIZE", 2)
    inside = {_lead(stages, "lost", local(tokyo, date(2026, 11, day), 9)).pk for day in (2, 3, 4)}
    _lead(stages, "lost", local(tokyo, date(2026, 12, 2), 9))
    params = {"lost_from": "2026-11-01", "lost_to": "2026-11-30"}

    first = client.get(LIST, params)
    second = client.get(
        LIST, {**params, "cursor": first.context["page"].next_cursor}, **HTMX, HTTP_HX_TARGET="lead-table"
    )

    assert first.context["page"].total == 3
    next_link = re.search(r'rel="next" data-testid="page-next" href="([^"]+)"', first.content.decode()).group(1)
    assert "lost_from=2026-11-01" in next_link and "lost_to=2026-11-30" in next_link
    assert "<html" not in second.content.decode() and "Lost 1 Nov 2026 – 30 Nov 2026" in second.content.decode()
    assert {lead.pk for lead in first.context["page"].items} | {lead.pk for lead in second.context["page"].items} == (
        inside
    )


def test_saved_view_keeps_the_drill_down_parameters(client, login, stages):
    login("sales")
    query = "created_from=2026-11-01&created_to=2026-11-30&won_from=2026-11-01&lost_to=2026-11-30&currency=eur"

    client.post(reverse("leads:lead_view_create"), {"name": "November", "filters": query}, **HTMX)

    view = LeadSavedView.objects.get()
    assert view.filters == {
        "created_from": "2026-11-01",
        "created_to": "2026-11-30",
        "won_from": "2026-11-01",
        "lost_to": "2026-11-30",
        "currency": "EUR",
    }
    rail = client.get(LIST, view.filters).context["rail"]
    assert [entry.name for entry in rail if entry.active] == ["November"]


def test_api_list_takes_the_same_parameters(client, login, stages, tokyo):
    login("viewer")
    inside = _lead(stages, "won", local(tokyo, date(2026, 11, 1)))
    _lead(stages, "won", local(tokyo, date(2026, 12, 1)))

    response = client.get(reverse("leads_api:lead_list"), {"won_from": "2026-11-01", "won_to": "2026-11-30"})

    assert [row["id"] for row in response.json()["results"]] == [inside.pk]


# --- The list counts what the dashboard counts ----------------------------------------------------------------


def test_list_counts_equal_the_rollup_facts_counts(client, login, stages, tokyo):
    login("viewer")
    chance = random.Random(20261130)
    owners = [UserFactory(), UserFactory()]
    start = local(tokyo, date(2026, 10, 27))
    for _ in range(50):
        created = start + timedelta(minutes=chance.randrange(0, 40 * 24 * 60))
        later = created + timedelta(minutes=chance.randrange(1, 8 * 24 * 60))
        stage = chance.choice(["Prospect", "Qualified", "Won", "Won", "Lost", "Lost"])
        LeadFactory(
            stage=stages[stage],
            created=created,
            owner=chance.choice([None, *owners]),
            source=chance.choice([Lead.Source.WEBSITE, Lead.Source.REFERRAL]),
            currency=chance.choice(["USD", "EUR"]),
            value=Decimal(chance.randrange(100, 10_000)),
            # Some leads keep a won or lost time from an earlier close: the rollup counts the stage they are in.
            won_at=later if stage == "Won" or chance.random() < 0.1 else None,
            lost_at=later if stage == "Lost" or chance.random() < 0.1 else None,
        )
    facts = list(lead_rollup_facts())
    owner = owners[0].pk

    def won(fact) -> bool:  # insights.rollups._lead's "lead_won"
        return fact.stage_kind == "won" and fact.won_at is not None and in_november_2026(fact.won_at)

    def lost(fact) -> bool:
        return fact.stage_kind == "lost" and fact.lost_at is not None and in_november_2026(fact.lost_at)

    created = {f"created_{end}": day for end, day in NOVEMBER.items()}
    cases = [
        (created, lambda f: in_november_2026(f.created)),
        ({f"won_{end}": day for end, day in NOVEMBER.items()}, won),
        ({f"lost_{end}": day for end, day in NOVEMBER.items()}, lost),
        (created | {"currency": "EUR"}, lambda f: in_november_2026(f.created) and f.currency == "EUR"),
        (created | {"owner": str(owner)}, lambda f: in_november_2026(f.created) and f.owner_id == owner),
        (created | {"owner": "none"}, lambda f: in_november_2026(f.created) and f.owner_id is None),
        (created | {"source": "referral"}, lambda f: in_november_2026(f.created) and f.source == "referral"),
        (
            {f"won_{end}": day for end, day in NOVEMBER.items()} | {"currency": "USD", "status": "won"},
            lambda f: won(f) and f.currency == "USD",
        ),
    ]
    for params, keep in cases:
        assert client.get(LIST, params).context["page"].total == sum(1 for f in facts if keep(f)), params
    assert sum(1 for f in facts if won(f)) > 0 and sum(1 for f in facts if lost(f)) > 0
