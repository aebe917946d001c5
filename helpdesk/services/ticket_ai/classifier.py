"""The workspace's own ticket-category classifier, trained on tickets its agents categorised.

Until every category in use has a few examples, the analysis compares tickets with the category descriptions
(zero-shot). Once at least two categories have `MIN_EXAMPLES_PER_CATEGORY` categorised tickets, a classifier
is trained on them (ai.facade.classifier_train) and the analysis asks it first. The periodic maintenance task
retrains it when the examples changed, at most every `RETRAIN_EVERY`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ai import facade

from ...selectors import ticket_ai as selectors
from .analysis import CATEGORY_CLASSIFIER

MIN_EXAMPLES_PER_CATEGORY = 10
MAX_EXAMPLES_PER_CATEGORY = 300  # newest first: the classifier follows how the workspace categorises today
RETRAIN_EVERY = timedelta(hours=6)


def category_classifier_train(*, force: bool = False, now: datetime | None = None) -> facade.TrainingReport | None:
    """Trains the category classifier when due; returns the new report, or None when nothing was trained."""
    texts, labels, fingerprint = selectors.category_training_examples(
        min_per_category=MIN_EXAMPLES_PER_CATEGORY, max_per_category=MAX_EXAMPLES_PER_CATEGORY
    )
    current = facade.classifier_status(CATEGORY_CLASSIFIER)
    if len(set(labels)) < 2:
        return None
    if current is not None and not force:
        if current.fingerprint == fingerprint:
            return None
        if (now or timezone.now()) - current.trained_at < RETRAIN_EVERY:
            return None
    return facade.classifier_train(CATEGORY_CLASSIFIER, texts, labels, fingerprint=fingerprint)
