"""Pipeline metrics on a small crafted history: velocity, conversion per stage, time in stage, win rates; the
query count does not grow with the leads; the page renders bars with their figures as text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from leads import metrics
from leads.models import LeadStageChange

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _lead(stages, walk: list[tuple[str, int]], *, source: str = "website", owner=None, value: int = 1000):
    """A lead walking `walk` [(stage name, days ago)…]: its stage, dates and stage changes follow the walk."""
    last_name, last_ago = walk[-1]
    stage = stages[last_name]
    at = NOW - timedelta(days=last_ago)
    lead = LeadFactory(
        stage=stage, source=source, owner=owner or UserFactory(), value=value, created=NOW - timedelta(days=walk[0][1]),
        won_at=at if stage.kind == "won" else None, lost_at=at if stage.kind == "lost" else None,
    )  # fmt: skip
    previous = None
    for name, ago in walk:
        LeadStageChange.objects.create(
            lead=lead, from_stage=previous, to_stage=stages[name], at=NOW - timedelta(days=ago)
        )
        previous = stages[name]
    return lead


@pytest.fixture
def history(stages):
    ann, bob = UserFactory(name="Ann"), UserFactory(name="Bob")
    _lead(stages, [("Prospect", 30), ("Qualified", 20), ("Won", 10)], source="referral", owner=ann, value=1000)
    _lead(stages, [("Prospect", 40), ("Won", 5)], source="referral", owner=bob, value=3000)
    _lead(stages, [("Prospect", 25), ("Lost", 15)], source="outbound", owner=ann)
    _lead(stages, [("Prospect", 5)])
    _lead(stages, [("Prospect", 12), ("Qualified", 6)])
    _lead(stages, [("Prospect", 230), ("Won", 200)], source="outbound", value=99_000)  # before the period


def test_headline_figures_and_velocity(pipeline, history):
    result = metrics.pipeline_metrics(pipeline=pipeline, days=90, now=NOW)

    assert (result.open_leads, result.won, result.lost) == (2, 2, 1)
    assert result.win_rate == pytest.approx(2 / 3)
    assert result.average_won_value == pytest.approx(2000)
    assert result.average_cycle_days == pytest.approx(27.5)
    assert result.velocity == pytest.approx(2 * (2 / 3) * 2000 / 27.5)


def test_conversion_and_time_per_stage(pipeline, history):
    result = metrics.pipeline_metrics(pipeline=pipeline, days=90, now=NOW)

    conversion = {bar.label: bar for bar in result.conversion}
    assert conversion["Prospect"].value == pytest.approx(3 / 5) and conversion["Prospect"].percent == 100
    assert conversion["Qualified"].value == pytest.approx(1 / 2)
    assert conversion["Qualified"].text == "50% moved on (1 of 2)"
    days = {bar.label: bar.value for bar in result.time_in_stage}
    assert days == {"Prospect": pytest.approx((10 + 35 + 10 + 6) / 4), "Qualified": pytest.approx(10)}


def test_win_rates_by_source_and_owner(pipeline, history):
    result = metrics.pipeline_metrics(pipeline=pipeline, days=90, now=NOW)

    assert [(bar.label, bar.text) for bar in result.by_source] == [
        ("Referral", "100% (2 of 2)"), ("Outbound", "0% (0 of 1)")
    ]  # fmt: skip
    assert [(bar.label, bar.value) for bar in result.by_owner] == [("Bob", 1.0), ("Ann", 0.5)]


def test_a_longer_period_reaches_older_wins(pipeline, history):
    result = metrics.pipeline_metrics(pipeline=pipeline, days=365, now=NOW)

    assert result.won == 3 and result.average_won_value == pytest.approx(103_000 / 3)


def test_metrics_cost_a_constant_number_of_queries(pipeline, history, stages, django_assert_num_queries):
    for _ in range(5):
        _lead(stages, [("Prospect", 9), ("Proposal", 4), ("Won", 1)], owner=UserFactory())

    # stages, headline figures, entered, moved on, time in stage, by source, by owner
    with django_assert_num_queries(7):
        metrics.pipeline_metrics(pipeline=pipeline)


def test_metrics_page_shows_figures_and_text_alternatives_of_its_bars(client, login, pipeline, history):
    login("sales")
    url = reverse("leads:pipeline_metrics", args=[pipeline.pk])

    html = client.get(url).content.decode()
    longer = client.get(url, {"days": "365"}).content.decode()
    odd = client.get(url, {"days": "nonsense"})

    assert "per day" in html and "<svg" in html and 'aria-hidden="true"' in html
    assert "100% (2 of 2)" in html and "50% moved on (1 of 2)" in html
    assert '<option value="90" selected>' in html and '<option value="365" selected>' in longer
    assert odd.status_code == 200
    board = client.get(reverse("leads:lead_board")).content.decode()
    assert url in board


def test_other_apps_add_cards_to_the_metrics_page_for_the_period_and_may_hide_them(
    client, login, pipeline, monkeypatch, settings, tmp_path
):
    from leads import panels
    from leads.contracts import PipelineMetricCard

    seen = []

    def context(pipeline_id, days, user):
        seen.append((pipeline_id, days))
        return {"figure": f"{days}-day figure"} if user.role == "sales" else None

    (tmp_path / "_card.html").write_text("<p data-testid='card'>{{ panel.figure }}</p>")
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    monkeypatch.setattr(panels, "_metric_cards", {})
    panels.metric_card_register(PipelineMetricCard(name="test", template="_card.html", context=context))
    url = reverse("leads:pipeline_metrics", args=[pipeline.pk])

    login("sales")
    assert "<p data-testid='card'>180-day figure</p>" in client.get(url, {"days": "180"}).content.decode()
    login("viewer")
    assert "data-testid='card'" not in client.get(url).content.decode()
    assert seen == [(pipeline.pk, 180), (pipeline.pk, 90)]
