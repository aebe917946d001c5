"""Monthly budgets per provider configuration: spend from the ledger, skipping to local, telling admins once."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ai import budgets, facade
from ai.models import AIRun, ProviderConfig
from ai.orchestrator import BUDGET
from ai.selectors import ai_settings_get
from ai.tests.factories import AIRunFactory, ProviderConfigFactory
from ai.tests.scripted import local_stub_fixture, scripted_fixture  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_stub")]

# 1000 input + 200 output tokens per scripted call at these prices: $0.27 a call.
PRICES = {"price_per_million": {"input": "150", "output": "600"}}
TEXT = "The mobile app logs me out every few minutes since version 4.2."


def entry(config: ProviderConfig):
    return ai_settings_get().provider(config.pk)


def summary() -> str:
    return json.dumps({"summary": "Logged out often.", "keywords": []})


def test_spend_is_the_sum_of_this_months_runs_of_the_configuration():
    config, other = ProviderConfigFactory(), ProviderConfigFactory()
    AIRunFactory(provider_config=config, cost_usd=Decimal("1.25"))
    AIRunFactory(provider_config=config, cost_usd=Decimal("0.75"))
    AIRunFactory(provider_config=other, cost_usd=Decimal("5"))
    AIRunFactory(provider_config=config, cost_usd=Decimal("9"), created=timezone.now() - timedelta(days=40))

    assert budgets.spent_usd(config.pk) == Decimal("2.00")


def test_spend_is_counted_once_then_kept_up_to_date_without_summing_again(django_assert_num_queries):
    config = ProviderConfigFactory()
    AIRunFactory(provider_config=config, cost_usd=Decimal("1"))
    assert budgets.spent_usd(config.pk) == Decimal("1")

    from ai.services import ai_run_record

    ai_run_record(
        feature="x", operation="generate", provider="openai", provider_config_id=config.pk, cost_usd=Decimal("0.5")
    )
    with django_assert_num_queries(0):
        assert budgets.spent_usd(config.pk) == Decimal("1.5")


def test_months_are_calendar_months():
    config = ProviderConfigFactory()
    june = datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    AIRunFactory(provider_config=config, cost_usd=Decimal("3"), created=june)

    assert budgets.spent_usd(config.pk, now=june) == Decimal("3")
    assert budgets.spent_usd(config.pk, now=june + timedelta(hours=2)) == Decimal("0")


def test_a_configuration_without_a_budget_is_never_exhausted():
    config = ProviderConfigFactory(monthly_budget_usd=None)
    AIRunFactory(provider_config=config, cost_usd=Decimal("1000"))

    assert not budgets.is_exhausted(entry(config))


def test_a_spent_budget_sends_runs_to_the_next_provider_and_says_why(scripted):
    config = ProviderConfigFactory(provider="scripted", monthly_budget_usd=Decimal("0.50"), extra=PRICES)
    scripted.script(summary(), summary())

    first = facade.summarize(TEXT)
    second = facade.summarize(TEXT + " Again.")
    third = facade.summarize(TEXT + " And again.")

    assert [first.meta.provider, second.meta.provider, third.meta.provider] == ["scripted", "scripted", "local"]
    assert budgets.spent_usd(config.pk) == Decimal("0.54")
    assert len(scripted.requests) == 2
    run = AIRun.objects.get(pk=third.meta.run_id)
    assert run.status == "fallback" and run.fallback_from == ["scripted"]
    assert run.flags["providers"][0]["skipped"] == BUDGET
    config.refresh_from_db()
    assert config.budget_exhausted_month == budgets.month_label()


def test_when_only_a_spent_budget_stood_in_the_way_the_error_says_so(scripted):
    ProviderConfigFactory(provider="scripted", monthly_budget_usd=Decimal("0"), extra=PRICES)
    context = {"customer_name": "Dana", "customer_message": TEXT, "agent_name": "Sam", "workspace_name": "Acme"}

    with pytest.raises(facade.AIUnavailable) as raised:
        facade.generate("reply_draft", context | {"notes": ""})

    assert raised.value.budget_spent is True and raised.value.retry_after is None
    assert scripted.requests == []


def test_administrators_are_told_once_per_month_by_email(
    scripted, caplog, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    owner, admin = make_user(role="owner"), make_user(role="admin")
    agent, former_admin = make_user(role="agent"), make_user(role="admin", is_active=False)
    config = ProviderConfigFactory(provider="scripted", monthly_budget_usd=Decimal("0"), extra=PRICES)

    with caplog.at_level(logging.WARNING, logger="ai.budgets"), django_capture_on_commit_callbacks(execute=True):
        for number in range(3):
            facade.summarize(f"{TEXT} {number}")

    warnings = [record for record in caplog.records if "budget" in record.getMessage()]
    assert len(warnings) == 1 and config.label in warnings[0].getMessage()
    assert scripted.requests == []
    # Through notifications: one email each (and an in-app notice), as each manager chose.
    told = {message.to[0]: message for message in mailoutbox}
    assert len(told) == len(mailoutbox)
    assert {owner.email, admin.email} <= set(told)
    assert agent.email not in told and former_admin.email not in told
    mail = told[owner.email]
    assert config.label in mail.subject and timezone.now().strftime("%B %Y") in mail.subject
    assert "local model" in mail.body and "/settings/ai/" in mail.body


def test_marking_the_budget_does_not_flush_the_cache(scripted):
    ProviderConfigFactory(provider="scripted", monthly_budget_usd=Decimal("0"), extra=PRICES)
    facade.summarize(TEXT)

    assert facade.summarize(TEXT).meta.cached


def test_an_answer_cached_before_the_budget_ran_out_is_still_served(scripted):
    config = ProviderConfigFactory(provider="scripted", monthly_budget_usd=Decimal("0.20"), extra=PRICES)
    first = facade.summarize(TEXT)  # $0.27: the budget is now spent

    again = facade.summarize(TEXT)
    other = facade.summarize(TEXT + " Another question.")

    assert first.meta.provider == again.meta.provider == "scripted" and again.meta.cached
    assert other.meta.provider == "local" and budgets.spent_usd(config.pk) == Decimal("0.27")
