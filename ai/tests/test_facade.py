"""The facade as domain code uses it: the real local provider offline, Celery, and the real OpenAI SDK end to end."""

from __future__ import annotations

import numpy as np
import pytest
from celery import shared_task
from django.db import connection

from ai import facade, services
from ai.contracts import AIUnavailable, Classification, Embeddings, Language, Moderation, Rewrite, Sentiment, Summary
from ai.models import AIRun
from ai.tests.factories import ProviderConfigFactory
from ai.tests.scripted import scripted_fixture, sleeps_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

TICKET = (
    "Since this morning I cannot log in to the dashboard. I reset my password twice and still get "
    "'invalid credentials'. I'm on Chrome 126 on Windows 11. I expected to get in after the reset. "
    "Please help, our whole team is blocked. Dana, dana@example.com"
)
DRAFT = {
    "customer_name": "Dana",
    "customer_message": "Please send the invoice to dana@example.com, not to my colleague.",
    "agent_name": "Sam",
    "workspace_name": "Acme Support",
    "notes": "Invoices can be re-sent from the billing page.",
}


# --- Offline: the real local provider -----------------------------------------------------------


def test_classify_offline_returns_a_label_of_the_workspace():
    labels = {"login": "Cannot sign in, password reset, two-factor", "billing": "Invoices, payments, refunds"}

    result = facade.classify(TICKET, labels)

    assert isinstance(result, Classification) and result.label == "login"
    assert set(result.scores) == set(labels) and 0 <= result.confidence <= 1
    assert result.meta.is_local and result.meta.run_id and not result.meta.cached


def test_sentiment_language_and_moderation_offline():
    assert isinstance(sentiment := facade.sentiment("This is terrible, I am furious and want a refund!"), Sentiment)
    assert sentiment.label == "negative" and sentiment.score < 0
    assert isinstance(
        language := facade.detect_language("Bonjour, je n'arrive pas à me connecter à mon compte."), Language
    )
    assert language.code == "fr"
    moderation = facade.moderate("You are a useless idiot and I will find you.")
    assert isinstance(moderation, Moderation) and moderation.flagged
    assert not facade.moderate("Thanks for the quick help today!").flagged


def test_summarize_offline_is_extractive():
    result = facade.summarize(TICKET, max_sentences=2)

    assert isinstance(result, Summary) and result.meta.is_local
    assert result.text and all(sentence.strip(" .") in TICKET for sentence in result.text.split(". ") if sentence)
    assert isinstance(result.keywords, tuple)


def test_rewrite_offline_restructures_a_ticket_without_inventing_facts():
    result = facade.rewrite(TICKET, style="ticket")

    assert isinstance(result, Rewrite) and result.meta.is_local
    assert {"summary", "steps", "expected", "actual", "environment"} <= set(result.sections)
    assert "Chrome 126" in result.sections["environment"]


def test_embed_offline_returns_normalised_vectors():
    result = facade.embed(["I cannot log in", "password reset not working", "invoice amount wrong"])

    assert isinstance(result, Embeddings) and result.vectors.shape == (3, 384) and result.dimensions == 384
    assert result.model == "all-MiniLM-L6-v2" and result.meta.is_local
    assert np.allclose(np.linalg.norm(result.vectors, axis=1), 1, atol=1e-5)
    similarity = result.vectors @ result.vectors.T
    assert similarity[0, 1] > similarity[0, 2]


def test_free_text_generation_offline_raises_ai_unavailable_for_the_domain_to_catch():
    with pytest.raises(AIUnavailable, match="needs an external AI provider") as raised:
        facade.generate("reply_draft", DRAFT)

    assert facade.get_run(raised.value.run_id).status == "error"


def test_feedback_against_a_run(make_user):
    agent = make_user("agent")
    result = facade.rewrite("pls fix login asap, broken since update", style="formal", user=agent)

    facade.record_feedback(
        run_id=result.meta.run_id, outcome="edited", final_text=result.text + " Thank you.", user=agent
    )

    run = AIRun.objects.get(pk=result.meta.run_id)
    assert run.user == agent and run.feedback.get().edit_distance == 3


# --- Background generation ----------------------------------------------------------------------

finished: list[tuple[str, int | None, str]] = []


@shared_task(name="ai.tests.test_facade.remember_finished_run")
def remember_finished_run(run_id: int | None, ticket: str) -> None:
    finished.append((connection.schema_name, run_id, ticket))


def test_generate_later_runs_in_celery_and_calls_back_with_the_run(scripted, make_user):
    ProviderConfigFactory(provider="scripted")
    finished.clear()
    user = make_user("agent")

    task_id = facade.generate_later(
        "reply_draft",
        DRAFT,
        user=user,
        on_done="ai.tests.test_facade.remember_finished_run",
        on_done_kwargs={"ticket": "T-1"},
    )

    assert task_id
    [(schema, run_id, ticket)] = finished
    assert (schema, ticket) == ("t_alpha", "T-1")
    record = facade.get_run(run_id)
    assert record.succeeded and record.text.startswith("Echo: Customer: Dana")
    assert AIRun.objects.get(pk=run_id).user == user


def test_a_failed_background_run_still_calls_back():
    finished.clear()

    facade.generate_later(
        "reply_draft", DRAFT, on_done="ai.tests.test_facade.remember_finished_run", on_done_kwargs={"ticket": "T-2"}
    )

    [(_, run_id, _)] = finished
    assert facade.get_run(run_id).status == "error"


# --- End to end through the real OpenAI SDK and a wire-format fake ------------------------------


@pytest.fixture
def openai_config(openai_fake):
    return services.provider_config_create(
        provider="openai",
        label="OpenAI",
        model="gpt-4o-mini",
        base_url=openai_fake.base_url,
        api_key=openai_fake.api_key,
        timeout_seconds=2,
    )


def test_an_email_never_reaches_the_vendor_and_comes_back_restored(openai_fake, openai_config):
    result = facade.generate("reply_draft", DRAFT)

    received = openai_fake.received_text()
    assert "dana@example.com" not in received and "[EMAIL_1]" in received
    assert result.meta.provider == "openai" and "dana@example.com" in result.text  # the fake echoes the message
    run = AIRun.objects.get(pk=result.meta.run_id)
    assert run.redacted_count == 1 and run.cost_usd > 0 and run.input_tokens > 0


def test_a_429_is_waited_out_and_retried(openai_fake, openai_config, sleeps):
    openai_fake.enqueue_rate_limit(retry_after=1)

    result = facade.generate("reply_draft", DRAFT)

    assert result.meta.provider == "openai" and result.meta.fallback_from == ()
    assert len(openai_fake.requests_to("/chat/completions")) == 2
    assert sleeps == [1.0]


def test_a_vendor_failing_with_500_falls_back_to_local(openai_fake, openai_config, sleeps):
    for _ in range(3):
        openai_fake.enqueue_error(500)

    result = facade.summarize(TICKET)

    assert result.meta.provider == "local" and result.meta.fallback_from == ("openai",)
    assert len(openai_fake.requests_to("/chat/completions")) == 3 and len(sleeps) == 2
    run = AIRun.objects.get(pk=result.meta.run_id)
    assert run.status == "fallback" and run.error_class == "ProviderUnavailable"


def test_structured_output_through_the_sdk(openai_fake, openai_config):
    schema = {"type": "object", "properties": {"urgent": {"type": "boolean"}}, "required": ["urgent"]}
    openai_fake.enqueue_reply('{"urgent": true}')

    result = facade.generate("reply_draft", DRAFT, json_schema=schema)

    assert result.data == {"urgent": True}
    assert openai_fake.last.body["response_format"]["json_schema"]["schema"] == schema


def test_a_wrong_key_is_a_readable_connection_test_and_a_fallback(openai_fake, openai_config):
    openai_fake.api_key = "sk-test-some-other-key-000000000000000000"

    test = services.provider_config_test(config=openai_config)
    result = facade.summarize(TICKET)

    assert not test.ok
    assert test.message == "Reached, authentication failed (HTTP 401): check the API key and its permissions."
    assert openai_config.last_test_status == "failed" and openai_fake.api_key not in test.message
    assert result.meta.provider == "local"
    assert AIRun.objects.get(pk=result.meta.run_id).error_class == "AuthenticationFailed"
