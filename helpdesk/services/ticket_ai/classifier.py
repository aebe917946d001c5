"""The workspace's own ticket classifiers (category, priority, type), trained on tickets its agents labelled.

Each is an ai classifier with versions (see ai.classifiers): the helpdesk registers where its examples come from
(`training_sources_register`, from HelpdeskConfig.ready) and the AI models page or the periodic maintenance task
trains new versions; a new version is deployed only if it beats the deployed one on the newest tickets.

When a workspace has history — at least `MIN_LABELS` labels with `MIN_EXAMPLES_PER_LABEL` labelled tickets
each — it gets a model: category from every categorised ticket; priority and type from solved and closed tickets
only (both have defaults, so an open ticket's value may be nobody's choice). Labels below the minimum are left out.
Agents' corrections (a ticket labelled differently from the analysis's suggestion) are in the next dataset with
the agent's label, counted as "agent corrections". Without a model: zero-shot for the category, rules for
priority and type.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ai import facade

from ...selectors import ticket_ai as selectors

CATEGORY_CLASSIFIER = "helpdesk.category"
PRIORITY_CLASSIFIER = "helpdesk.priority"
TYPE_CLASSIFIER = "helpdesk.type"
MIN_LABELS = 2
MIN_EXAMPLES_PER_LABEL = 10
RETRAIN_EVERY = timedelta(hours=6)

CLASSIFIERS = {
    # name: (ticket field, solved/closed tickets only, title on the models page, where the examples come from)
    CATEGORY_CLASSIFIER: ("category", False, "Ticket category", "Every categorised ticket."),
    PRIORITY_CLASSIFIER: ("priority", True, "Ticket priority", "Solved and closed tickets' priority."),
    TYPE_CLASSIFIER: ("type", True, "Ticket type", "Solved and closed tickets' type."),
}


def ticket_training_data(name: str) -> facade.TrainingData:
    """The labelled tickets of classifier `name`, oldest first, with their label names and sources."""
    kind, settled_only, _, _ = CLASSIFIERS[name]
    examples = selectors.ticket_training_examples(
        kind=kind, min_per_label=MIN_EXAMPLES_PER_LABEL, settled_only=settled_only
    )
    sources = {"tickets": len(examples.texts) - examples.corrections, "agent corrections": examples.corrections}
    return facade.TrainingData(
        tuple(examples.texts), tuple(examples.labels), examples.label_names, sources, examples.fingerprint
    )


def has_history(data: facade.TrainingData) -> bool:
    return len(set(data.labels)) >= MIN_LABELS


def training_sources_register() -> None:
    for name, (_, _, title, description) in CLASSIFIERS.items():
        facade.register_training_source(
            name, title=title, description=description, collect=lambda name=name: ticket_training_data(name)
        )


def ticket_classifiers_train(*, force: bool = False, now: datetime | None = None) -> dict[str, int]:
    """Queues a new version of each classifier whose examples changed, at most every `RETRAIN_EVERY`; returns
    the examples queued per classifier name."""
    queued = {}
    for name in CLASSIFIERS:
        data = ticket_training_data(name)
        if not has_history(data):
            continue
        latest = facade.classifier_status(name, latest=True)
        if latest is not None and not force:
            if latest.fingerprint == data.fingerprint or latest.status == "training":
                continue
            if (now or timezone.now()) - latest.trained_at < RETRAIN_EVERY:
                continue
        report = facade.classifier_train(
            name,
            data.texts,
            data.labels,
            fingerprint=data.fingerprint,
            label_names=data.label_names,
            sources=data.sources,
            background=True,
        )
        queued[name] = report.examples
    return queued


def category_classifier_train(*, force: bool = False, now: datetime | None = None) -> int:
    """Kept for callers of the old name: queues the ticket classifiers that are due; examples queued in all."""
    return sum(ticket_classifiers_train(force=force, now=now).values())
