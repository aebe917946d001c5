"""AI through the real parts: `generate_later` queued on the Redis broker and run by a real Celery worker.

The worker calls the OpenAI fake over HTTP with the official SDK, records the run in PostgreSQL outside any
transaction (the ledger's pipelined, asynchronous-commit insert: only a real autocommit connection, as in the
worker, takes that path; unit tests run inside a transaction) and redacts personal data before sending.
"""

from __future__ import annotations

import pytest

from ai import facade
from ai.models import AIRun, ProviderConfig
from ai.tests.fakes.openai_fake import OpenAIFake

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]

CONTEXT = {
    "customer_message": "Please call me back on +44 20 7946 0958, the export still fails.",
    "customer_name": "Dana Lee",
    "agent_name": "Sam",
    "notes": "",
    "workspace_name": "Alpha",
}


@pytest.fixture
def openai_fake():
    with OpenAIFake() as fake:
        yield fake


@pytest.fixture
def committed_openai_config(live_data, openai_fake):
    def create() -> int:
        from ai import services

        config = services.provider_config_create(
            provider="openai", label="OpenAI (fake)", api_key=openai_fake.api_key, base_url=openai_fake.base_url
        )
        return config.pk

    config_id = live_data.run(create)
    # Cleanups run last-added first: the runs go before the configuration, whose deletion would unlink them.
    live_data.add_cleanup(lambda: ProviderConfig.objects.filter(pk=config_id).delete())
    live_data.add_cleanup(lambda: AIRun.objects.filter(provider_config_id=config_id).delete())
    return config_id


def test_generate_later_runs_on_the_worker_and_leaves_a_ledger_row(
    live_celery, live_data, openai_fake, committed_openai_config
):
    openai_fake.enqueue_reply("Hello Dana, we are on it. We will call you back at [PHONE_1].")

    task_id = live_data.run(lambda: facade.generate_later("reply_draft", CONTEXT))

    from celery.result import AsyncResult

    run_id = AsyncResult(task_id).get(timeout=30)
    run = live_data.run(lambda: AIRun.objects.get(pk=run_id))
    assert (run.provider, run.status, run.provider_config_id) == ("openai", AIRun.Status.OK, committed_openai_config)
    assert "+44 20 7946 0958" in run.output_text  # restored in the answer
    (request,) = openai_fake.requests
    assert "7946" not in request.text() and run.redacted_count == 1
