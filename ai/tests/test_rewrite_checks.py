"""A chat model's "ticket" rewrite passes the same checks as the offline one: no placeholder is ever offered, and
a rewrite that empties, merely repeats or embellishes the ticket is "nothing to improve"."""

from __future__ import annotations

import json

import pytest

from ai import facade
from ai.rewrite_checks import NOTHING_LEFT, ONE_STATEMENT, PLACEHOLDER, ticket_rewrite_verdict
from ai.tests.factories import ProviderConfigFactory
from ai.tests.scripted import scripted_fixture  # noqa: F401 (fixture)

TICKET = "hi the invoice pdf should show our vat number but it is blank since the march release"


def reply(text: str, **sections: str) -> str:
    return json.dumps({"text": text, "sections": sections})


@pytest.fixture
def chat_model(scripted):
    ProviderConfigFactory(provider="scripted", label="Chat", priority=10, api_key="sk-chat-key-123456789")
    return scripted


@pytest.mark.django_db
def test_a_chat_models_placeholders_are_left_out_of_the_text_offered(chat_model):
    chat_model.script(
        reply(
            f"Summary\nthe invoice pdf is blank\n\nSteps to reproduce\n{PLACEHOLDER}\n\nEnvironment\nN/A",
            summary="the invoice pdf is blank since the march release",
            steps=PLACEHOLDER,
            expected="the invoice pdf should show our vat number",
            actual="it is blank",
            environment="N/A",
        )
    )

    result = facade.rewrite(TICKET, style="ticket")

    assert result.meta.provider == "scripted" and not result.nothing_to_improve
    assert PLACEHOLDER not in result.text and "N/A" not in result.text and "Steps to reproduce" not in result.text
    assert result.sections["steps"] == result.sections["environment"] == ""
    assert result.text.startswith("Summary\nthe invoice pdf is blank since the march release\n\nExpected\n")


@pytest.mark.django_db
def test_a_chat_model_filing_the_whole_ticket_under_expected_is_nothing_to_improve(chat_model):
    whole = "the invoice pdf should show our vat number but it is blank since the march release"
    chat_model.script(reply(f"Expected\n{whole}", expected=whole, summary="", steps="(none)", actual="-"))

    result = facade.rewrite(TICKET, style="ticket")

    assert result.nothing_to_improve and result.reason == ONE_STATEMENT


@pytest.mark.django_db
def test_a_chat_model_adding_a_version_is_not_offered(chat_model):
    chat_model.script(
        reply(
            "…",
            summary="the invoice pdf is blank",
            expected="the invoice pdf should show our vat number",
            actual="it is blank since release 4.2",
        )
    )

    result = facade.rewrite(TICKET, style="ticket")

    assert result.nothing_to_improve and "4.2" in result.reason


def test_greetings_only_leave_nothing_to_improve():
    verdict = ticket_rewrite_verdict("hello thanks", "", {key: "" for key in ("summary", "steps")})

    assert verdict.nothing_to_improve and verdict.reason == NOTHING_LEFT and verdict.text == ""


@pytest.mark.django_db
def test_other_styles_are_not_checked_as_tickets():
    result = facade.rewrite("pls fix login asap", style="formal")

    assert not result.nothing_to_improve and result.reason == ""
