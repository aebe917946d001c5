"""The ledger: prices and costs, feedback with edit distance, usage figures in constant queries, isolation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from ai import facade, pricing
from ai.contracts import AIInputError
from ai.models import AIFeedback, AIRun
from ai.services import word_edit_distance
from ai.tests.factories import AIFeedbackFactory, AIRunFactory
from ai.tests.scripted import local_stub_fixture  # noqa: F401 (fixtures)

# --- Prices -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "model", "expected"),
    [
        ("openai", "gpt-4o-mini", (Decimal("0.15"), Decimal("0.60"))),
        ("openai", "gpt-4o-mini-2024-07-18", (Decimal("0.15"), Decimal("0.60"))),  # longest prefix, not gpt-4o
        ("openai", "gpt-4o-2024-08-06", (Decimal("2.50"), Decimal("10.00"))),
        ("anthropic", "claude-3-5-haiku-20241022", (Decimal("0.80"), Decimal("4.00"))),
        ("google", "gemini-2.5-flash", (Decimal("0.30"), Decimal("2.50"))),
        ("openai", "some-future-model", (Decimal("2.50"), Decimal("10.00"))),  # the vendor's cautious default
        ("local", "switchboard-local-1", (Decimal("0"), Decimal("0"))),
        ("copilot", "m365-copilot", (Decimal("0"), Decimal("0"))),
    ],
)
def test_prices_per_million_tokens(provider, model, expected):
    assert pricing.price_for(provider, model) == expected


def test_cost_of_a_run():
    assert pricing.cost_usd("openai", "gpt-4o-mini", 1_000, 500) == Decimal("0.000450")
    assert pricing.cost_usd("anthropic", "claude-opus-4-1", 2_000_000, 1_000_000) == Decimal("105.000000")


def test_a_configuration_can_set_its_own_prices():
    extra = {"price_per_million": {"input": 0, "output": "1.5"}}

    assert pricing.cost_usd("openai", "llama3.1", 1_000_000, 2_000_000, extra) == Decimal("3.000000")
    assert pricing.cost_usd("openai", "gpt-4o", 1_000, 1_000, {"price_per_million": {"input": "x"}}) > 0


# --- Feedback -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "distance"),
    [
        ("Thanks, we refunded you.", "Thanks, we refunded you.", 0),
        ("Thanks, we refunded you.", "Thanks, we have refunded you today.", 2),
        ("Hello Dana", "Hi Dana", 1),
        ("", "Three new words", 3),
    ],
)
def test_edit_distance_counts_words_changed(before, after, distance):
    assert word_edit_distance(before, after) == distance


def test_edit_distance_of_long_texts_stays_fast_and_close():
    before = " ".join(f"word{n}" for n in range(2000))
    after = before.replace("word10 ", "changed ").replace("word1500", "other")

    assert word_edit_distance(before, after) == 2


@pytest.mark.django_db
def test_feedback_is_stored_with_the_edit_distance_against_the_output(make_user):
    agent = make_user("agent")
    run = AIRunFactory(output_text="Hi Dana, your refund is on its way.")

    facade.record_feedback(run_id=run.pk, outcome="edited", final_text="Hi Dana, your refund left today.", user=agent)

    feedback = AIFeedback.objects.get()
    # "is on its way" -> "left today": two words replaced, two deleted.
    assert (feedback.run, feedback.user, feedback.outcome, feedback.edit_distance) == (run, agent, "edited", 4)


@pytest.mark.django_db
def test_recording_feedback_again_replaces_the_agents_earlier_verdict(make_user):
    agent = make_user("agent")
    run = AIRunFactory()

    facade.record_feedback(run_id=run.pk, outcome="rejected", user=agent)
    facade.record_feedback(run_id=run.pk, outcome="accepted", user=agent)

    feedback = AIFeedback.objects.get()
    assert (feedback.outcome, feedback.edit_distance) == ("accepted", 0)


@pytest.mark.django_db
def test_a_rejection_has_no_edit_distance():
    run = AIRunFactory()

    facade.record_feedback(run_id=run.pk, outcome="rejected", final_text="Something else entirely")

    assert AIFeedback.objects.get().edit_distance is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("run_id", "outcome", "message"), [(999_999, "accepted", "no AI run #999999"), (None, "liked", "Unknown feedback")]
)
def test_bad_feedback_is_refused_clearly(run_id, outcome, message):
    run_id = run_id or AIRunFactory().pk

    with pytest.raises(AIInputError, match=message):
        facade.record_feedback(run_id=run_id, outcome=outcome)


# --- Reading runs -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_run_returns_the_stored_result(local_stub):
    summary = facade.summarize("The app crashes on start. It worked yesterday.")

    record = facade.get_run(summary.meta.run_id)

    assert record.succeeded and record.text == summary.text and record.data["keywords"] == ["local"]
    assert (record.meta.provider, record.meta.feature) == ("local", "summarize")


@pytest.mark.django_db
def test_a_run_of_another_workspace_cannot_be_read_or_rated(other_tenant):
    with tenant_context(other_tenant):
        beta_run = AIRunFactory(output_text="beta's secret draft")
    AIRun.objects.filter(pk=beta_run.pk).delete()  # in case alpha has a row with that id by coincidence

    with pytest.raises(AIInputError):
        facade.get_run(beta_run.pk)
    with pytest.raises(AIInputError):
        facade.record_feedback(run_id=beta_run.pk, outcome="accepted")


# --- Usage figures ------------------------------------------------------------------------------


def _run(**fields) -> AIRun:
    return AIRunFactory(**fields)


@pytest.fixture
def usage(db):
    """Four runs of two features on two providers, one cached, one failed, two rated; and an old run."""
    summarize_ok = _run(feature="summarize", provider="openai", cost_usd=Decimal("0.010"), latency_ms=100)
    _run(feature="summarize", provider="openai", cost_usd=Decimal("0"), latency_ms=2, cached=True)
    rewrite_ok = _run(feature="rewrite", provider="local", cost_usd=Decimal("0"), latency_ms=300)
    _run(feature="rewrite", provider="openai", status="error", cost_usd=Decimal("0.005"), latency_ms=9000)
    _run(feature="rewrite", provider="openai", created=timezone.now() - timedelta(days=45), cost_usd=Decimal("9"))
    AIFeedbackFactory(run=summarize_ok, outcome="accepted")
    AIFeedbackFactory(run=rewrite_ok, outcome="rejected", edit_distance=None)


def test_metrics_add_up_runs_cost_latency_cache_hits_and_acceptance(usage):
    metrics = facade.get_metrics(days=30)

    total = metrics.total
    assert (total.runs, total.errors, total.cost_usd) == (4, 1, Decimal("0.015"))
    assert total.cache_hit_rate == 0.25
    assert total.latency_p50_ms == 100 and total.latency_p95_ms == pytest.approx(280.0)  # failures excluded
    assert (total.feedback_count, total.accepted, total.rejected, total.acceptance_rate) == (2, 1, 1, 0.5)

    by_feature = {row.key: row for row in metrics.by_feature}
    assert (by_feature["rewrite"].runs, by_feature["rewrite"].acceptance_rate) == (2, 0.0)
    assert (by_feature["summarize"].cache_hit_rate, by_feature["summarize"].acceptance_rate) == (0.5, 1.0)
    by_provider = {row.key: row for row in metrics.by_provider}
    assert (by_provider["openai"].runs, by_provider["openai"].cost_usd) == (3, Decimal("0.015"))
    assert (by_provider["local"].runs, by_provider["local"].feedback_count) == (1, 1)
    assert sum(day.runs for day in metrics.daily) == 4


def test_a_longer_period_includes_older_runs(usage):
    assert facade.get_metrics(days=60).total.runs == 5


@pytest.mark.django_db
def test_metrics_of_an_empty_workspace():
    metrics = facade.get_metrics()

    assert metrics.total.runs == 0 and metrics.total.cache_hit_rate is None and metrics.total.acceptance_rate is None
    assert metrics.by_feature == () and metrics.daily == ()


@pytest.mark.django_db
def test_metrics_take_the_same_number_of_queries_whatever_the_volume(django_assert_num_queries):
    _run(feature="a")
    with django_assert_num_queries(7):
        facade.get_metrics()

    for number in range(30):
        run = _run(feature=f"feature-{number % 6}", provider=["openai", "local", "google"][number % 3])
        AIFeedbackFactory(run=run)
    with django_assert_num_queries(7):
        facade.get_metrics()


def test_metrics_only_count_the_current_workspace(usage, other_tenant):
    with tenant_context(other_tenant):
        AIRunFactory(cost_usd=Decimal("100"))
        assert facade.get_metrics().total.runs == 1

    assert facade.get_metrics().total.cost_usd == Decimal("0.015")
