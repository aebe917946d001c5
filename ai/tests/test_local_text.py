"""The regex sentence splitter every offline analyser relies on."""

from __future__ import annotations

import pytest

from ai.providers.local.text import sentence_spans, split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("It fails. Please help!", ["It fails.", "Please help!"]),
        ("since v2.3.1 the export fails. it worked before", ["since v2.3.1 the export fails.", "it worked before"]),
        (
            "E.g. the CSV. Dr. Smith saw it at 3.5 s. Really?",
            ["E.g. the CSV.", "Dr. Smith saw it at 3.5 s.", "Really?"],
        ),
        ("Steps:\n1. Open reports\n2. Click export", ["Steps:", "1. Open reports", "2. Click export"]),
        ("Thanks,\nJ. Doe", ["Thanks,", "J. Doe"]),
        ("", []),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_spans_point_into_the_original_text():
    text = "  First one.   Second one!\n\nThird  "
    assert [text[start:end] for start, end in sentence_spans(text)] == ["First one.", "Second one!", "Third"]
