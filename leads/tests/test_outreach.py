"""The outreach plan's drafts with a cloud provider (the "leads_outreach" prompt, through the real OpenAI SDK and the
wire-format fake in ai/tests/fakes): generated when every draft passes the check, the template's otherwise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest

from ai import services as ai_services
from ai.prompts import system_prompt
from ai.tests.fakes.openai_fake import OpenAIFake
from ai.tests.scripted import sleeps_fixture  # noqa: F401 (fixture)
from customers.tests.factories import ContactFactory
from leads import intelligence, outreach

from .factories import LeadActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 2, 1)
GOOD = [
    "Hi Fox,\n\nThanks for your time on the demo call. Is there anything you need from us on Live chat for Acme "
    "before March 1?\n\nBest regards",
    "Hi Fox,\n\nChecking in before your decision on the 12,000 USD proposal. Happy to answer any question.\n\nBest",
]


@pytest.fixture
def openai_fake() -> Iterator[OpenAIFake]:
    with OpenAIFake() as fake:
        yield fake


@pytest.fixture
def cloud(openai_fake):
    ai_services.provider_config_create(
        provider="openai",
        label="OpenAI",
        model="gpt-4o-mini",
        base_url=openai_fake.base_url,
        api_key=openai_fake.api_key,
        timeout_seconds=2,
    )
    return openai_fake


@pytest.fixture
def lead(stages):
    contact = ContactFactory(name="Fox Mulder", email="fox@acme.test")
    lead = LeadFactory(stage=stages["Qualified"], title="Live chat for Acme", contact=contact,
                       customer=contact.customer, value=12000, expected_close=date(2026, 3, 1))  # fmt: skip
    LeadActivityFactory(lead=lead, kind="call", subject="Demo call")
    return lead


def answer(fake: OpenAIFake, drafts: list[str]) -> None:
    fake.enqueue_reply(json.dumps({"drafts": drafts}))


def test_the_prompt_ships_with_the_code_and_names_what_it_needs():
    prompt = system_prompt("leads_outreach")

    assert prompt is not None and prompt.version == "system:v1"
    assert {"title", "company", "contact", "stage", "value", "close", "activities", "steps"} <= prompt.placeholders


def test_with_a_cloud_provider_every_email_draft_is_generated_from_the_lead_facts(cloud, lead):
    answer(cloud, GOOD)

    steps, by = intelligence.lead_outreach_plan(lead, today=TODAY)

    assert by == "gpt-4o-mini-2024-07-18"
    assert [step.draft for step in steps if step.kind == "email"] == GOOD
    assert [step.draft for step in steps if step.kind != "email"] == ["", ""]  # calls and meetings: no draft
    (request,) = cloud.requests_to("/chat/completions")
    sent = json.dumps(request.body)
    assert "Live chat for Acme" in sent and "12,000 USD" in sent and "Demo call" in sent
    assert "fox@acme.test" not in cloud.received_text()  # never given; personal data is redacted anyway


@pytest.mark.parametrize(
    "bad",
    [
        "Hi Fox,\n\nWe can offer you 20% off if you sign this week.\n\nBest",  # an invented discount
        "Hi Fox,\n\nBook a slot at https://calendly.com/sales-team.\n\nBest",  # an invented link
        "Hi Fox,\n\nThe price is 9,500 USD.\n\nBest",  # an invented price
        "",  # nothing
    ],
)
def test_a_draft_with_invented_facts_keeps_the_template_plan(cloud, lead, bad):
    answer(cloud, [GOOD[0], bad])

    steps, by = intelligence.lead_outreach_plan(lead, today=TODAY)

    assert by == "template"
    assert steps == intelligence._template_plan(lead, TODAY)


def test_the_wrong_number_of_drafts_keeps_the_template_plan(cloud, lead):
    answer(cloud, GOOD[:1])

    assert intelligence.lead_outreach_plan(lead, today=TODAY)[1] == "template"


def test_a_failing_provider_keeps_the_template_plan(cloud, lead, sleeps):
    for _ in range(3):
        cloud.enqueue_error(500)

    steps, by = intelligence.lead_outreach_plan(lead, today=TODAY)

    assert by == "template" and steps[0].draft.startswith("Hi Fox,")
    assert len(cloud.requests_to("/chat/completions")) == 3


def test_without_a_cloud_provider_nothing_is_asked(lead, monkeypatch):
    monkeypatch.setattr(outreach.ai, "generate", lambda *args, **kwargs: pytest.fail("asked a model"))

    assert intelligence.lead_outreach_plan(lead, today=TODAY)[1] == "template"


@pytest.mark.parametrize(
    ("draft", "refused"),
    [
        ("Hi Fox, shall we talk about the 12,000 USD offer before March 1, 2026?", False),
        ("Hi Fox, see www.acme-offers.test for details.", True),
        ("Hi Fox, write to me at sam@vendor.test.", True),
        ("Hi Fox, call me at [PHONE_1].", True),
        ("Hi Fox, 3 customers like you signed last month.", True),
    ],
)
def test_the_draft_check(draft, refused):
    facts = "Live chat for Acme\nFox Mulder\n12,000 USD\nMarch 1, 2026 (2026-03-01)"

    assert bool(outreach.draft_problems(draft, facts=facts)) is refused
