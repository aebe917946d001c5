"""The grounding check of generated texts: repeating the facts passes, adding to them does not."""

from ai import facade as ai

FACTS = "Quote Q-00012: 3 seats at 1,999.00 USD, valid until 2027-01-31. Contact: dana@buyer.test."


def test_a_text_that_repeats_the_facts_in_other_words_passes():
    text = "Your 3 seats come to 1999 USD, and the offer stands until 2027-01-31. Reply to dana@buyer.test."
    assert ai.generated_text_problems(text, facts=FACTS, max_chars=500, source="the quote") == ()


def test_an_invented_number_a_foreign_link_or_redacted_data_is_named():
    problems = ai.generated_text_problems(
        "Take 15% off at https://deals.example.com, [EMAIL_1].", facts=FACTS, max_chars=500, source="the quote"
    )
    invented, link, redacted = problems
    assert invented.startswith("It states numbers the quote does not have:") and "15" in invented
    assert link == "It contains a link or address the quote does not have."
    assert redacted == "It contains redacted personal data."


def test_an_empty_or_overlong_text_is_refused():
    assert ai.generated_text_problems("  ", facts=FACTS, max_chars=10) == ("It is empty.",)
    assert ai.generated_text_problems("seats " * 5, facts=FACTS, max_chars=10) == ("It is too long.",)
