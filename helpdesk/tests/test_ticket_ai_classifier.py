"""The workspace's own category classifier: trained once agents categorised enough tickets, then preferred."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ai import facade
from helpdesk.services import ticket_ai
from helpdesk.services.ticket_ai import classifier
from helpdesk.services.ticket_ai.analysis import CATEGORY_CLASSIFIER

from .factories import TicketFactory
from .ticket_ai_support import analysed, categories, labelled

pytestmark = pytest.mark.django_db

TRAINED_LABELS = ("billing", "shipping", "login", "performance")


def categorised(per_label: int, labels=TRAINED_LABELS) -> dict:
    found = categories()
    for row in labelled(per_label):
        if row["label"] in labels:
            TicketFactory(subject=row["text"][:60], original_description=row["text"], category=found[row["label"]])
    return found


def test_no_model_until_two_categories_have_enough_categorised_tickets():
    categorised(classifier.MIN_EXAMPLES_PER_CATEGORY, labels=("billing",))
    categorised(classifier.MIN_EXAMPLES_PER_CATEGORY - 1, labels=("shipping",))

    assert ticket_ai.category_classifier_train() is None
    assert facade.classifier_status(CATEGORY_CLASSIFIER) is None


def test_with_enough_labels_the_trained_classifier_takes_over_and_is_accurate():
    found = categorised(classifier.MIN_EXAMPLES_PER_CATEGORY)

    report = ticket_ai.category_classifier_train()

    assert report.examples == 4 * classifier.MIN_EXAMPLES_PER_CATEGORY
    assert set(report.labels) == {str(found[label].pk) for label in TRAINED_LABELS}
    held_out = [row for row in labelled(3, skip=20) if row["label"] in TRAINED_LABELS]
    correct = 0
    for row in held_out:
        ticket = analysed(TicketFactory(subject=row["text"][:60], original_description=row["text"]))
        suggestion = ticket.ai_suggestions["suggestions"]["category"]
        assert suggestion["method"] == "trained"
        assert "tickets your agents categorised" in suggestion["reasons"][0]
        correct += suggestion["value"] == found[row["label"]].pk
    assert correct / len(held_out) >= 0.8


def test_a_ticket_outside_the_trained_categories_falls_back_to_zero_shot(monkeypatch):
    categorised(classifier.MIN_EXAMPLES_PER_CATEGORY)
    ticket_ai.category_classifier_train()
    monkeypatch.setattr(classifier, "MIN_EXAMPLES_PER_CATEGORY", 10)
    from helpdesk.services.ticket_ai import analysis

    monkeypatch.setattr(analysis, "TRAINED_MIN_CONFIDENCE", 1.01)  # the model is never sure enough

    ticket = analysed(TicketFactory(original_description="The parcel never arrived, tracking shows nothing."))

    assert ticket.ai_suggestions["suggestions"]["category"]["method"] == "zero_shot"


def test_retraining_happens_only_when_the_examples_changed_and_not_too_often():
    found = categorised(classifier.MIN_EXAMPLES_PER_CATEGORY)
    first = ticket_ai.category_classifier_train()

    assert ticket_ai.category_classifier_train() is None  # same examples
    TicketFactory(subject="Refund", original_description="Please refund the double charge.", category=found["billing"])
    assert ticket_ai.category_classifier_train() is None  # changed, but trained moments ago
    later = timezone.now() + classifier.RETRAIN_EVERY + timedelta(minutes=1)
    second = ticket_ai.category_classifier_train(now=later)
    assert second.examples == first.examples + 1 and second.fingerprint != first.fingerprint
