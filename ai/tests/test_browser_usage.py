"""The usage page in a real browser: the vendored Chart.js loads and draws every chart from the page's JSON data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

CHARTS = "canvas[data-sb-chart]"
ALL_DRAWN = (
    "() => window.Chart && [...document.querySelectorAll('canvas[data-sb-chart]')]"
    ".every(canvas => Chart.getChart(canvas) !== undefined)"
)
RUNS_CHART = """() => {
  const chart = Chart.getChart(document.querySelector('canvas[data-sb-chart="runs"]'));
  return {
    type: chart.config.type,
    width: chart.width,
    totals: Object.fromEntries(chart.data.datasets.map(set => [set.label, set.data.reduce((a, b) => a + b, 0)])),
  };
}"""


def _runs() -> list[int]:
    from ai.tests.factories import AIFeedbackFactory, AIRunFactory

    now = timezone.now()
    runs = [
        AIRunFactory(provider="openai", cost_usd=Decimal("0.01"), created=now - timedelta(days=day))
        for day in (0, 1, 1, 3)
    ]
    runs.append(AIRunFactory(provider="local", model="switchboard-local-1", cost_usd=0, created=now))
    AIFeedbackFactory(run=runs[0], outcome="accepted")
    return [run.pk for run in runs]


def test_the_usage_page_draws_its_charts(live_stack, live_data, browser):
    admin = live_data.create_user("admin")
    run_ids = live_data.run(_runs)

    def delete_runs() -> None:
        from ai.models import AIRun

        AIRun.objects.filter(pk__in=run_ids).delete()

    live_data.add_cleanup(delete_runs)

    page = new_page(browser)
    sign_in(page, live_stack, admin, next_path="/settings/ai/usage/")

    expect(page.locator(CHARTS)).to_have_count(4)
    page.wait_for_function(ALL_DRAWN)
    drawn = page.evaluate(RUNS_CHART)
    assert drawn["type"] == "bar" and drawn["width"] > 0
    assert drawn["totals"] == {"OpenAI": 4, "Local model": 1}
    expect(page.get_by_test_id("kpi-runs").get_by_test_id("kpi-value")).to_have_text("5")
