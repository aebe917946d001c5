"""The usage page (KPIs, chart data, tables, empty state), the run log with its filters and the run detail."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from ai import selectors
from ai.models import AIRun
from ai.tests.factories import AIFeedbackFactory, AIRunFactory, ProviderConfigFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args) -> str:
    return reverse(f"ai:{name}", args=args)


def ago(days: int = 0, hours: int = 0):
    return timezone.now() - timedelta(days=days, hours=hours)


def chart_data(html: str) -> dict:
    match = re.search(r'<script id="usage-charts" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page has no usage-charts data block"
    return json.loads(match.group(1))


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def runs(db):
    """Seven runs over six days in the last month (one per status kind), three rated; and one older run."""
    today = [
        AIRunFactory(provider="openai", feature="summarize", cost_usd=Decimal("0.010"), latency_ms=100, created=ago()),
        AIRunFactory(provider="openai", feature="summarize", cost_usd=Decimal("0.020"), latency_ms=300, created=ago()),
        AIRunFactory(provider="local", feature="classify", cost_usd=0, latency_ms=20, model="switchboard-local-1"),
    ]
    fallback = AIRunFactory(
        provider="openai",
        feature="summarize",
        status=AIRun.Status.FALLBACK,
        fallback_from=["anthropic"],
        cost_usd=Decimal("0.005"),
        latency_ms=500,
        created=ago(days=2),
    )
    AIRunFactory(provider="openai", feature="summarize", cached=True, cost_usd=0, latency_ms=2, created=ago(days=2))
    AIRunFactory(
        provider="anthropic",
        feature="classify",
        status=AIRun.Status.ERROR,
        error_class="AuthenticationFailed",
        cost_usd=0,
        latency_ms=900,
        created=ago(days=5),
    )
    AIRunFactory(provider="local", feature="classify", cost_usd=0, latency_ms=40, created=ago(days=9))
    AIRunFactory(provider="openai", feature="summarize", cost_usd=Decimal("7"), created=ago(days=40))
    AIFeedbackFactory(run=today[0], outcome="accepted")
    AIFeedbackFactory(run=fallback, outcome="edited", edit_distance=4)
    AIFeedbackFactory(run=today[2], outcome="rejected", edit_distance=None)


# --- Usage page ---------------------------------------------------------------------------------


def test_the_usage_page_shows_the_kpis(client, admin, runs):
    response = client.get(url("usage"))

    html = " ".join(response.content.decode().split())
    assert response.status_code == 200
    kpis = dict(re.findall(r'data-testid="kpi-(\w+)">.*?data-testid="kpi-value">([^<]*)<', html))
    assert kpis == {
        "runs": "7",
        "cost": "$0.0350",
        "latency": "160 ms",  # of the six answered runs
        "cache": "14%",
        "acceptance": "67%",
        "fallback": "14%",
    }
    assert "1 failed or blocked" in html and "of 3 rated" in html and "p95 450 ms" in html


def test_the_chart_data_holds_the_figures_of_the_period(client, admin, runs):
    html = client.get(url("usage")).content.decode()

    charts = chart_data(html)
    dates = charts["runs"]["dates"]
    assert len(dates) == 31 and dates[-1] == timezone.localdate().isoformat()
    per_provider = {dataset["key"]: dataset["data"] for dataset in charts["runs"]["datasets"]}
    assert list(per_provider) == ["openai", "local", "anthropic"]  # most runs first
    assert (per_provider["openai"][-1], per_provider["openai"][-3], sum(per_provider["openai"])) == (2, 2, 4)
    assert (per_provider["local"][-1], per_provider["local"][-10], sum(per_provider["local"])) == (1, 1, 2)
    assert per_provider["anthropic"][-6] == 1
    cost = charts["cost"]["datasets"][0]["data"]
    assert (cost[-1], cost[-3], sum(cost)) == (0.03, 0.005, pytest.approx(0.035))
    assert charts["latency"]["labels"] == ["Summaries", "Sorting into categories"]
    p50, p95 = (dataset["data"] for dataset in charts["latency"]["datasets"])
    assert (p50, p95) == ([200.0, 30.0], [470.0, 39.0])
    verdicts = {dataset["label"]: dataset["data"] for dataset in charts["acceptance"]["datasets"]}
    assert verdicts == {"Accepted": [1, 0], "Edited": [1, 0], "Rejected": [0, 1]}


def test_the_charts_have_tables_for_people_who_prefer_to_read(client, admin, runs):
    html = client.get(url("usage")).content.decode()

    assert html.count("<canvas") == 4 and 'data-sb-chart="runs"' in html
    by_feature = html.split('data-testid="usage-by-feature"')[1].split("</section>")[0]
    assert "summarize" in by_feature and "470 ms" in by_feature
    by_day = html.split('data-testid="usage-by-day"')[1].split("</section>")[0]
    assert by_day.count("<tr>") == 32  # header and 31 days
    assert "chartjs-4.6.1/chart.umd.min.js" in html and "js/charts.js" in html


def test_a_longer_period_includes_older_runs(client, admin, runs):
    html = client.get(url("usage"), {"days": 90}).content.decode()

    charts = chart_data(html)
    assert len(charts["runs"]["dates"]) == 91
    assert sum(sum(dataset["data"]) for dataset in charts["runs"]["datasets"]) == 8
    assert 'aria-current="page" href="/settings/ai/usage/?days=90"' in html


def test_a_short_period_leaves_older_runs_out(client, admin, runs):
    charts = chart_data(client.get(url("usage"), {"days": 7}).content.decode())

    assert len(charts["runs"]["dates"]) == 8
    assert sum(sum(dataset["data"]) for dataset in charts["runs"]["datasets"]) == 6


@pytest.mark.parametrize("days", ["14", "abc", "-7", "0"])
def test_an_unknown_period_is_refused_clearly(client, admin, days):
    response = client.get(url("usage"), {"days": days})

    assert response.status_code == 400
    assert b"Choose a period of 7, 30, 90 days." in response.content


def test_the_usage_page_of_a_workspace_without_runs_says_so(client, admin):
    AIRunFactory(created=ago(days=60))

    response = client.get(url("usage"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="usage-empty"' in html and "No AI runs in the last 30 days" in html
    assert "<canvas" not in html and "usage-charts" not in html and "chart.umd.min.js" not in html


def test_the_usage_page_costs_the_same_queries_whatever_the_volume(client, admin, django_assert_max_num_queries):
    AIRunFactory()
    with django_assert_max_num_queries(20) as few:
        client.get(url("usage"))

    for number in range(60):
        run = AIRunFactory(
            provider=["openai", "local", "google", "anthropic"][number % 4],
            feature=f"feature-{number % 7}",
            created=ago(days=number % 25, hours=number % 5),
        )
        AIFeedbackFactory(run=run, outcome=["accepted", "edited", "rejected"][number % 3])
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("usage"))
    assert response.status_code == 200


def test_the_daily_series_is_one_query_whatever_the_volume(runs, django_assert_num_queries):
    with django_assert_num_queries(1):
        series = selectors.ai_usage_series(days=30)

    assert (series.total_runs, series.fallback_runs, series.answered_runs) == (7, 1, 6)


def test_the_daily_series_counts_days_in_the_workspace_time_zone(settings, db):
    settings.TIME_ZONE = "America/New_York"
    now = timezone.now().replace(hour=3, minute=0, second=0, microsecond=0)  # 03:00 UTC: the evening before in NY
    AIRunFactory(created=now - timedelta(minutes=1))

    series = selectors.ai_usage_series(days=7, now=now)

    assert series.days[-1] == (now - timedelta(hours=5)).date()
    assert series.runs["openai"][-1] == 1


# --- Run log ------------------------------------------------------------------------------------


def test_the_run_log_lists_runs_newest_first_with_links_to_each(client, admin, runs):
    response = client.get(url("run_list"))

    html = response.content.decode()
    assert response.status_code == 200
    ids = [int(value) for value in re.findall(r'href="/settings/ai/runs/(\d+)/"', html)]
    expected = list(AIRun.objects.order_by("-created", "-id").values_list("pk", flat=True))
    assert ids == expected
    assert 'title="Answered by a fallback provider">Fallback</span>' in html and "Anthropic" in html


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"provider": "openai"}, 5),
        ({"provider": "openai", "cached": "yes"}, 1),
        ({"cached": "no"}, 7),
        ({"status": "error"}, 1),
        ({"feature": "classify"}, 3),
        ({"feature": "classify", "status": "fallback"}, 0),
    ],
)
def test_the_run_log_filters(client, admin, runs, params, count):
    response = client.get(url("run_list"), params, **HTMX, HTTP_HX_TARGET="run-table")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="run-table"')
    assert html.count('data-testid="run-row"') == count
    if not count:
        assert "No runs match these filters." in html


@pytest.mark.parametrize("params", [{"status": "exploded"}, {"cached": "maybe"}])
def test_a_bad_run_log_filter_is_refused_clearly(client, admin, params):
    response = client.get(url("run_list"), params)

    assert response.status_code == 400
    assert b"Unknown status 'exploded'" in response.content or b'"yes" or "no"' in response.content


def test_the_run_log_of_a_new_workspace_says_what_will_appear(client, admin):
    html = client.get(url("run_list")).content.decode()

    assert 'data-testid="run-empty"' in html and "No AI runs yet" in html


def test_the_run_log_pages_through_runs_with_a_cursor(client, admin, django_assert_max_num_queries):
    AIRunFactory.create_batch(55, created=ago(hours=1))

    first = client.get(url("run_list")).content.decode()
    cursor = unquote(re.search(r'rel="next" data-testid="page-next" href="[^"]*cursor=([^"&]+)"', first).group(1))
    with django_assert_max_num_queries(12):
        second = client.get(url("run_list"), {"cursor": cursor}, **HTMX, HTTP_HX_TARGET="run-table")

    assert first.count('data-testid="run-row"') == 50
    assert second.content.decode().count('data-testid="run-row"') == 5


# --- Run detail ---------------------------------------------------------------------------------


def test_a_misconfigured_provider_reads_clearly_in_the_run_detail(client, admin):
    config = ProviderConfigFactory(label="OpenAI production")
    message = "The model 'gpt-9' does not exist or your key cannot use it."
    run = AIRunFactory(
        provider="openai",
        model="",
        provider_config=config,
        status=AIRun.Status.ERROR,
        error_class="Misconfigured",
        error_message=message,
        fallback_from=["openai"],
        output_text="",
        flags={
            "providers": [
                {"provider": "openai", "config": "OpenAI production", "error": "Misconfigured", "message": message}
            ]
        },
    )

    response = client.get(url("run_detail", run.pk))

    html = response.content.decode()
    assert response.status_code == 200
    error = html.split('data-testid="run-error"')[1].split("</div>")[0]
    assert "Failed: The provider is not set up correctly" in error
    assert "The model &#x27;gpt-9&#x27; does not exist" in error and "<code>Misconfigured</code>" in error
    assert f'href="{url("settings")}"' in error
    chain = html.split('data-testid="run-chain"')[1].split("</section>")[0]
    assert "OpenAI production" in chain and "The provider is not set up correctly" in chain
    assert 'data-testid="ai-provenance"' not in html


def test_a_fallback_run_shows_the_chain_tokens_cost_prompt_and_feedback(client, admin, make_user):
    dana = make_user("agent", name="Dana Agent")
    run = AIRunFactory(
        provider="openai",
        model="gpt-4o-mini",
        status=AIRun.Status.FALLBACK,
        error_class="RateLimited",
        error_message="Rate limit reached; retry after 20 s.",
        fallback_from=["anthropic"],
        flags={
            "providers": [
                {"provider": "anthropic", "config": "Claude", "error": "RateLimited", "message": "429", "attempts": 3}
            ]
        },
        input_tokens=1234,
        output_tokens=56,
        cost_usd=Decimal("0.004200"),
        latency_ms=820,
        prompt_key="summarize",
        prompt_version="tenant:v2",
        output_data={"summary": "Dana cannot sign in."},
    )
    AIFeedbackFactory(run=run, user=dana, outcome="edited", edit_distance=3)

    html = " ".join(client.get(url("run_detail", run.pk)).content.decode().split())

    assert "Answered by a fallback provider. First problem: The provider&#x27;s rate limit was reached" in html
    chain = html.split('data-testid="run-chain"')[1].split("</section>")[0]
    assert chain.index("Claude") < chain.index("Answered") and "(3 attempts)" in chain
    facts = html.split('data-testid="run-facts"')[1].split("</dl>")[0]
    assert "1234 in / 56 out" in facts and "$0.0042" in facts and "820 ms" in facts
    assert f'href="{url("prompt_edit", "summarize")}"' in facts and "tenant:v2" in facts
    assert "OpenAI · gpt-4o-mini · 820 ms · fallback" in html
    assert "Edited, then used" in html and "3 words changed" in html and "Dana Agent" in html
    assert "&quot;summary&quot;: &quot;Dana cannot sign in.&quot;" in html


def test_a_run_answered_by_the_local_model_says_so(client, admin):
    run = AIRunFactory(provider="local", model="switchboard-local-1", cost_usd=0)

    html = client.get(url("run_detail", run.pk)).content.decode()

    assert "Made offline by the local model (no generative AI)" in html
    assert "Local model answered first time." in html


def test_an_unknown_run_is_not_found(client, admin):
    assert client.get(url("run_detail", 987654321)).status_code == 404


# --- Who may see usage --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "viewer", "sales"])
def test_people_who_do_not_run_the_workspace_cannot_see_usage(client, login, role):
    login(role)
    run = AIRunFactory()

    for page in (url("usage"), url("run_list"), url("run_detail", run.pk)):
        assert client.get(page).status_code == 403, page


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_see_usage(client, login, role):
    login(role)
    run = AIRunFactory()

    for page in (url("usage"), url("run_list"), url("run_detail", run.pk)):
        assert client.get(page).status_code == 200, page


def test_usage_and_the_run_log_only_show_this_workspace(client, admin, other_tenant):
    with tenant_context(other_tenant):
        AIRunFactory(feature="beta-canary-feature", cost_usd=Decimal("99"))
    AIRunFactory(feature="summarize", cost_usd=Decimal("0.01"))

    usage = client.get(url("usage")).content.decode()
    run_log = client.get(url("run_list")).content.decode()

    assert "beta-canary-feature" not in usage + run_log
    assert sum(chart_data(usage)["cost"]["datasets"][0]["data"]) == 0.01
    assert run_log.count('data-testid="run-row"') == 1
