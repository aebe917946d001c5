"""Language, sentiment, zero-shot classification, extractive summaries and moderation of the local provider."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ai.providers.local import get_local_provider
from ai.providers.local.text import normalise_space, split_sentences

DATA = Path(__file__).resolve().parent / "data"
LABELS = json.loads((DATA / "labels.json").read_text())
TICKETS = [json.loads(line) for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]

LONG_TICKET = """Hi team,

since the update to version 4.2.1 the CSV export is broken. When I click Export on the Reports page, the spinner \
runs for a minute and then I get error 504. It should download a file with all tickets from last month. We tried \
Chrome 124 and Firefox 125 on Windows 11, same thing. This is blocking our monthly reporting to management. \
Our finance director needs the numbers by Friday. By the way, the new dashboard colours look great.

Thanks,
Maria"""


@pytest.fixture(scope="module")
def provider():
    return get_local_provider()


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        ("Ich kann mich seit gestern nicht mehr anmelden, das Passwort wird nicht akzeptiert.", "de", "German"),
        ("Bonjour, je n'arrive pas à télécharger ma facture depuis votre site.", "fr", "French"),
        ("Hello, the export button does nothing when I click it.", "en", "English"),
        ("Hola, mi pedido todavía no ha llegado y el número de seguimiento no funciona.", "es", "Spanish"),
        ("Hei, en pääse kirjautumaan sisään, salasana ei kelpaa.", "fi", "Finnish"),
        ("Dzień dobry, nie mogę zalogować się do konta od wczoraj.", "pl", "Polish"),
    ],
)
def test_language_of_supported_languages(provider, text, code, name):
    detected_code, detected_name, confidence = provider.language(text)
    assert (detected_code, detected_name) == (code, name)
    assert 0.5 < confidence <= 1.0


@pytest.mark.parametrize("text", ["", "ok", "42 !!", "   "])
def test_language_of_too_little_text_is_unknown(provider, text):
    assert provider.language(text)[:2] == ("", "Unknown")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Thank you so much, the new inbox is fantastic and your team was incredibly helpful!", "positive"),
        ("This is terrible. Nothing works, I lost a whole day and I am furious.", "negative"),
        ("The parcel was sent on Monday to the office in Berlin.", "neutral"),
    ],
)
def test_sentiment_sign(provider, text, label):
    found, score = provider.sentiment(text)
    assert found == label
    assert -1.0 <= score <= 1.0
    assert (score > 0) if label == "positive" else (score < 0) if label == "negative" else abs(score) < 0.05


def test_politeness_does_not_turn_a_complaint_positive(provider):
    label, score = provider.sentiment("Hi team,\nThe export is broken again and we lost all our data.\nThanks,\nMaria")
    assert label == "negative" and score < -0.05


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I was charged twice for my subscription this month, please refund one payment.", "billing"),
        ("The password reset email never arrives and I can't sign in.", "login"),
        ("When I click Save I get error 500 and my changes are lost.", "bug"),
        ("It would be great if you could add a dark mode to the app.", "feature_request"),
        ("My parcel still hasn't arrived, the tracking number shows no update.", "shipping"),
        ("Please change the owner of our account to my colleague.", "account_changes"),
        ("The dashboard takes 30 seconds to load, everything is extremely slow.", "performance"),
        ("How do I set up an automatic reply outside business hours?", "how_to"),
    ],
)
def test_zero_shot_picks_the_obvious_label(provider, text, label):
    best, confidence, scores = provider.classify(text, LABELS)
    assert best == label
    assert confidence == max(scores.values())
    assert set(scores) == set(LABELS)
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_zero_shot_accuracy_on_a_sample_of_the_labelled_tickets(provider):
    # 10 per category, the first in file order (the file is shuffled with a fixed seed).
    sample: dict[str, list[str]] = {}
    for ticket in TICKETS:
        sample.setdefault(ticket["label"], [])
        if len(sample[ticket["label"]]) < 10:
            sample[ticket["label"]].append(ticket["text"])
    pairs = [(text, label) for label, texts in sample.items() for text in texts]
    correct = sum(provider.classify(text, LABELS)[0] == label for text, label in pairs)
    assert correct / len(pairs) >= 0.75  # 0.87 on the whole set; chance is 0.125


def test_classify_needs_labels(provider):
    with pytest.raises(ValueError, match="at least one label"):
        provider.classify("anything", {})


def test_summary_sentences_come_from_the_text_in_original_order(provider):
    summary, keywords = provider.summarize(LONG_TICKET, max_sentences=2)
    sentences = split_sentences(summary)
    source = split_sentences(LONG_TICKET)
    assert 1 <= len(sentences) <= 2
    positions = [source.index(sentence) for sentence in sentences]  # ValueError if a sentence was rewritten
    assert positions == sorted(positions)
    assert "Hi team," not in summary and "Maria" not in summary
    assert "export" in summary.lower()
    assert keywords and all(keyword.lower() in LONG_TICKET.lower() for keyword in keywords)


def test_a_text_shorter_than_the_summary_is_returned_whole(provider):
    text = "Where is my order #1234? It was due on Monday."
    assert provider.summarize(text, max_sentences=3)[0] == normalise_space(text)
    assert provider.summarize("   ") == ("", ())


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("You are all useless idiots and you should be fired", "abuse"),
        ("fuck you, fix it now", "abuse"),
        ("If you don't refund me I will find you and hurt you.", "threat"),
        ("I can't take this anymore, I want to end my life.", "self-harm"),
        ("Hot singles want to sex chat with you, send nudes", "sexual"),
        ("CONGRATULATIONS you have won! Click here to claim your prize, earn $5000 a week from home", "spam"),
    ],
)
def test_moderation_flags_obvious_cases(provider, text, category):
    flagged, scores = provider.moderate(text)
    assert flagged
    assert max(scores, key=scores.get) == category
    assert scores[category] >= 0.5


def test_moderation_passes_every_ordinary_ticket(provider):
    extra = [
        "Please kill the stuck export process, the app died again.",
        "This bug is killing me, the export is shit.",
        "Can you shoot me a quick email when the invoice is fixed?",
        "Our sexual health clinic needs to change its billing address.",
    ]
    flagged = [t for t in [ticket["text"] for ticket in TICKETS] + extra if provider.moderate(t)[0]]
    assert flagged == []


def test_moderation_reports_every_category(provider):
    assert set(provider.moderate("Hello")[1]) == {"abuse", "threat", "self-harm", "sexual", "spam"}


def test_keywords_skip_pure_numbers(provider):
    _, keywords = provider.summarize("Order 12345 and order 67890 are late. The courier DHL lost both parcels.")
    assert not any(re.fullmatch(r"[\d\W]+", keyword) for keyword in keywords)
