"""Offline rewrites: restructuring and re-toning that never add a fact the input did not contain."""

from __future__ import annotations

import re

import pytest

from ai.providers.base import Unsupported
from ai.providers.local import get_local_provider
from ai.providers.local.rewrite import NOT_STATED
from ai.providers.local.text import normalise_space, split_sentences

MESSY = """Hi support,

since the update to version 4.2.1 the CSV export is broken. When I click Export on the Reports page, the spinner \
runs for a minute and then I get error 504. It should download a file with all tickets from last month. We tried it \
in Chrome 124 and Firefox 125 on Windows 11, same thing.
This is blocking our monthly reporting, please have a look asap!!

Thanks,
Maria"""

STRUCTURED = """Export broken
Steps to reproduce:
1. Go to Reports
2. Pick last month
3. Click Export CSV
Expected: a CSV file downloads
Actual: error 504 after 60 seconds
Environment: Windows 11, Chrome 124"""


@pytest.fixture(scope="module")
def provider():
    return get_local_provider()


def phrases(sections: dict[str, str]) -> list[str]:
    return [p for key, value in sections.items() for p in re.split(r"\n|; ", value) if p and key != "environment"]


def assert_only_input_phrases(source: str, sections: dict[str, str]) -> None:
    haystack = normalise_space(source).lower()
    for phrase in phrases(sections):
        assert normalise_space(phrase).lower() in haystack, f"invented: {phrase!r}"
    for item in sections["environment"].split("; "):
        assert not item or item.lower() in haystack, f"invented environment: {item!r}"


def test_messy_ticket_is_sorted_into_sections_from_its_own_words(provider):
    text, sections = provider.rewrite(MESSY, style="ticket")
    assert set(sections) == {"summary", "steps", "expected", "actual", "environment"}
    assert_only_input_phrases(MESSY, sections)
    assert sections["summary"] == (
        "since the update to version 4.2.1 the CSV export is broken.\n"
        "This is blocking our monthly reporting, please have a look asap!!"
    )  # the opening statement, then what fits no section: nothing of the ticket is lost
    assert sections["steps"] == "When I click Export on the Reports page"
    assert sections["expected"] == "It should download a file with all tickets from last month."
    assert "error 504" in sections["actual"]
    for item in ("Chrome 124", "Firefox 125", "Windows 11", "version 4.2.1"):
        assert item in sections["environment"]
    assert "Maria" not in text and "Hi support" not in text  # greetings and signatures are not facts of the bug


def test_labelled_ticket_keeps_its_labels_and_list(provider):
    text, sections = provider.rewrite(STRUCTURED, style="ticket")
    assert sections == {
        "summary": "Export broken",
        "steps": "Go to Reports\nPick last month\nClick Export CSV",
        "expected": "a CSV file downloads",
        "actual": "error 504 after 60 seconds",
        "environment": "Windows 11, Chrome 124",
    }
    assert "Steps to reproduce\n1. Go to Reports\n2. Pick last month\n3. Click Export CSV" in text


def test_sections_without_evidence_stay_empty_and_are_left_out_of_the_text(provider):
    source = "The invoice PDF shows the wrong company name. Can you fix it?"
    text, sections = provider.rewrite(source, style="ticket")
    assert sections["summary"] == "The invoice PDF shows the wrong company name."
    assert sections["steps"] == sections["expected"] == sections["environment"] == ""
    assert NOT_STATED not in text and "Expected" not in text  # an empty section is left out, not filled
    assert_only_input_phrases(source, sections)


def test_contrast_clause_splits_into_expected_and_actual(provider):
    source = "The report should include archived tickets but instead it only lists open ones."
    _, sections = provider.rewrite(source, style="ticket")
    assert sections["expected"] == "The report should include archived tickets"
    assert sections["actual"] == "it only lists open ones."


@pytest.mark.parametrize("source", [MESSY, STRUCTURED, "help!!! nothing works since yesterday, Safari 17 on iPhone 15"])
def test_no_number_appears_that_the_input_did_not_have(provider, source):
    text, _ = provider.rewrite(source, style="ticket")
    numbers_in = set(re.findall(r"\d+(?:\.\d+)*", source))
    numbered_steps = set(re.findall(r"^(\d+)\. ", text, re.MULTILINE))
    assert set(re.findall(r"\d+(?:\.\d+)*", text)) - numbered_steps <= numbers_in


def test_concise_is_extractive(provider):
    text, sections = provider.rewrite(MESSY, style="concise")
    assert sections == {}
    source = split_sentences(MESSY)
    assert all(sentence in source for sentence in split_sentences(text))
    assert len(text) < len(MESSY)


def test_formal_expands_contractions_and_adds_a_frame(provider):
    text, _ = provider.rewrite("hey, we can't find ur invoice, gonna check tomorrow. thx", style="formal")
    assert text.startswith("Hello, we cannot find your invoice, going to check tomorrow.")
    assert "can't" not in text and "gonna" not in text
    formal_with_frame, _ = provider.rewrite("The refund was sent on Monday.", style="formal")
    assert formal_with_frame == "Hello,\nThe refund was sent on Monday.\n\nKind regards"


def test_friendly_softens_stock_phrases(provider):
    source = "Dear customer,\nPlease be advised that we do not offer refunds after 30 days.\nKind regards"
    text, _ = provider.rewrite(source, style="friendly")
    assert text == "Hi there,\nJust so you know, we don't offer refunds after 30 days.\nThanks so much"


@pytest.mark.parametrize("style", ["formal", "friendly"])
def test_tone_changes_keep_every_fact(provider, style):
    source = "Your order #4471 ships on 12 March to Berlin. We're sorry it's late!"
    text, _ = provider.rewrite(source, style=style)
    for fact in ("#4471", "12 March", "Berlin"):
        assert fact in text


def test_unknown_style_is_a_clear_error(provider):
    with pytest.raises(Unsupported, match='no rewrite style "pirate"'):
        provider.rewrite("Hello", style="pirate")


def test_lower_case_phone_ticket(provider):
    source = """hi
1) open the app
2) tap login
nothing happens, the button is grey. it should open the login form. iPhone 13, iOS 17.2, app version 3.4.1
thx"""
    _, sections = provider.rewrite(source, style="ticket")
    assert sections == {
        "summary": "nothing happens, the button is grey.",
        "steps": "open the app\ntap login",
        "expected": "it should open the login form.",
        "actual": "nothing happens, the button is grey.",
        "environment": "iPhone 13; iOS 17.2; app version 3.4.1",
    }


def test_an_opening_question_is_not_the_summary(provider):
    _, sections = provider.rewrite("Can you help? The export fails every time since Monday.", style="ticket")
    assert sections["summary"] == "The export fails every time since Monday."


def test_a_long_run_on_text_with_a_modal_word_is_not_filed_under_expected(provider):
    source = (
        "hello the badge reader at the loading dock should be checked the night shift reports the light stays "
        "orange the gate opens only after several tries security asked us to log each case in the spreadsheet "
        "and the contractor visits monday"
    )
    _, sections = provider.rewrite(source, style="ticket")
    assert sections["expected"] == ""  # no clause boundary to trust: the whole text is not an expectation
    assert sections["summary"].startswith("the badge reader at the loading dock should be checked")
