"""The workspace's own ticket classifiers: trained once agents labelled enough tickets, then the only source of the
category suggestion (an unsure model makes none: never zero-shot); priority and type from solved tickets; agents'
corrections in the next dataset. Training is ai/tests/fake_training.py's scripted stand-in, except where noted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ai import facade
from ai.models import AIRun, Dataset, ModelVersion
from ai.tests.fake_training import FakeTraining
from helpdesk.models import Ticket
from helpdesk.selectors.ticket_ai import ai_panel
from helpdesk.services import ticket_ai
from helpdesk.services.ticket_ai import analysis, classifier
from helpdesk.services.ticket_ai.classifier import CATEGORY_CLASSIFIER, PRIORITY_CLASSIFIER, TYPE_CLASSIFIER

from .factories import TicketFactory
from .ticket_ai_support import analysed, categories, labelled

pytestmark = pytest.mark.django_db

TRAINED_LABELS = ("billing", "shipping", "login", "performance")
ENOUGH = classifier.MIN_EXAMPLES_PER_LABEL


@pytest.fixture
def fake(monkeypatch) -> FakeTraining:
    return FakeTraining().install(monkeypatch)


@pytest.fixture
def train_now(django_capture_on_commit_callbacks):
    """Queues due versions and runs their Celery jobs (eager in tests) as the commit would."""

    def run(**kwargs) -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            return ticket_ai.ticket_classifiers_train(**kwargs)

    return run


def categorised(per_label: int, labels=TRAINED_LABELS, **fields) -> dict:
    found = categories()
    for row in labelled(per_label):
        if row["label"] in labels:
            TicketFactory(
                subject=row["text"][:60], original_description=row["text"], category=found[row["label"]], **fields
            )
    return found


def test_no_model_until_two_labels_have_enough_labelled_tickets(fake, train_now):
    categorised(ENOUGH, labels=("billing",))
    categorised(ENOUGH - 1, labels=("shipping",))

    assert train_now() == {}
    assert facade.classifier_status(CATEGORY_CLASSIFIER) is None
    ticket = analysed(TicketFactory(original_description="The parcel never arrived, tracking shows nothing."))
    assert ticket.ai_suggestions["suggestions"]["category"]["method"] == "zero_shot"  # no model: zero-shot


def test_a_deployed_model_suggests_the_category_and_the_ledger_names_its_version(fake, train_now):
    found = categorised(ENOUGH)

    assert train_now() == {CATEGORY_CLASSIFIER: 4 * ENOUGH}

    dataset = Dataset.objects.get(name=CATEGORY_CLASSIFIER)
    assert dataset.label_counts == {str(found[label].pk): ENOUGH for label in TRAINED_LABELS}
    assert dataset.label_names[str(found["billing"].pk)] == "billing"
    assert dataset.sources == {"tickets": 4 * ENOUGH, "agent corrections": 0}
    row = next(row for row in labelled(1, skip=20) if row["label"] == "billing")
    ticket = analysed(TicketFactory(subject=row["text"][:60], original_description=row["text"]))
    suggestion = ticket.ai_suggestions["suggestions"]["category"]
    assert (suggestion["method"], suggestion["value"]) == ("trained", found["billing"].pk)
    assert "your model, version 1" in suggestion["reasons"][0]
    assert suggestion["model_version"] == "helpdesk.category v1"
    run = AIRun.objects.get(pk=suggestion["run_id"])
    assert run.model == "helpdesk.category v1" and run.output_data["model_version"] == 1
    assert ticket.ai_suggestions["runs"]["category"]["model"] == "helpdesk.category v1"


def test_an_unsure_model_makes_no_suggestion_and_never_falls_back_to_zero_shot(fake, train_now, monkeypatch, make_user):
    categorised(ENOUGH)
    train_now()
    fake_classify_calls: list[str] = []
    real_classify = facade.classify

    def spy(text, labels, *, feature="classify", user=None):
        fake_classify_calls.append(feature)
        return real_classify(text, labels, feature=feature, user=user)

    monkeypatch.setattr(facade, "classify", spy)

    ticket = analysed(TicketFactory(subject="Zyxq", original_description="Qwvz plorfz."))  # no word it knows

    document = ticket.ai_suggestions
    assert document["suggestions"]["category"] is None
    assert document["abstained"]["category"]["text"] == "Not confident — no suggestion."
    assert document["abstained"]["category"]["model"] == "helpdesk.category v1"
    assert analysis.FEATURES["category"] not in fake_classify_calls
    assert AIRun.objects.get(pk=document["abstained"]["category"]["run_id"]).output_data["abstained"] is True
    panel = ai_panel(ticket=ticket, user=make_user("agent"))
    assert panel.abstentions == (("Category", "Not confident — no suggestion."),)
    assert "category" not in {chip.kind for chip in panel.chips}


def test_the_panel_and_the_api_say_when_the_model_was_not_confident(fake, train_now, client, login):
    categorised(ENOUGH)
    train_now()
    login("agent")
    ticket = analysed(TicketFactory(subject="Zyxq", original_description="Qwvz plorfz."))

    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    rows = client.get(f"/api/v1/tickets/{ticket.pk}/suggestions/").json()["results"]

    assert 'data-testid="ai-abstained"' in html and "Not confident — no suggestion." in html
    category = next(row for row in rows if row["kind"] == "category")
    assert category["abstained"] and category["value"] is None and not category["actionable"]
    assert category["model_version"] == "helpdesk.category v1"


def test_agents_corrections_feed_the_next_dataset(fake, train_now):
    found = categorised(ENOUGH)
    train_now()
    row = next(row for row in labelled(1, skip=20) if row["label"] == "billing")
    ticket = analysed(TicketFactory(subject=row["text"][:60], original_description=row["text"]))
    assert ticket.ai_suggestions["suggestions"]["category"]["value"] == found["billing"].pk
    Ticket.objects.filter(pk=ticket.pk).update(category=found["shipping"])  # the agent knew better

    later = timezone.now() + classifier.RETRAIN_EVERY + timedelta(minutes=1)
    assert train_now(now=later) == {CATEGORY_CLASSIFIER: 4 * ENOUGH + 1}

    dataset = Dataset.objects.filter(name=CATEGORY_CLASSIFIER).order_by("-id").first()
    assert dataset.sources == {"tickets": 4 * ENOUGH, "agent corrections": 1}
    assert dataset.labels[-1] == str(found["shipping"].pk) and row["text"] in dataset.texts[-1]  # newest last


def test_priority_and_type_are_learnt_from_solved_tickets_once_there_is_history(fake, train_now):
    categories()
    for row in labelled(ENOUGH):
        urgent = row["label"] in ("bug", "performance")
        TicketFactory(
            subject=row["text"][:60],
            original_description=row["text"],
            status=Ticket.Status.SOLVED,
            priority="urgent" if urgent else "normal",
            type="incident" if urgent else "question",
        )
    TicketFactory.create_batch(30, status=Ticket.Status.OPEN, priority="low")  # open: not settled, not learnt

    queued = train_now()

    assert set(queued) == {PRIORITY_CLASSIFIER, TYPE_CLASSIFIER}  # no categories set: no category model
    priority_data = Dataset.objects.get(name=PRIORITY_CLASSIFIER)
    assert set(priority_data.label_counts) == {"urgent", "normal"}
    assert priority_data.label_names == {"urgent": "Urgent", "normal": "Normal"}
    row = next(row for row in labelled(1, skip=20) if row["label"] == "billing")
    ticket = analysed(TicketFactory(subject=row["text"][:60], original_description=row["text"]))
    suggestions = ticket.ai_suggestions["suggestions"]
    assert suggestions["priority"]["method"] == "trained" and suggestions["priority"]["value"] == "normal"
    assert suggestions["type"]["method"] == "trained" and suggestions["type"]["value"] == "question"
    assert ticket.ai_suggestions["runs"]["type"]["model"] == "helpdesk.type v1"


def test_without_history_priority_and_type_come_from_the_rules(fake, train_now):
    assert train_now() == {}

    ticket = analysed(TicketFactory(original_description="Everything is down, urgent! Nobody can work."))

    assert ticket.ai_suggestions["suggestions"]["priority"]["method"] == "rules"
    assert ticket.ai_suggestions["suggestions"]["type"]["method"] == "rules+zero_shot"


def test_retraining_is_queued_only_when_the_examples_changed_and_not_too_often(fake, train_now):
    found = categorised(ENOUGH)
    train_now()

    assert train_now() == {}  # same examples
    TicketFactory(subject="Refund", original_description="Please refund the double charge.", category=found["billing"])
    assert train_now() == {}  # changed, but trained moments ago
    later = timezone.now() + classifier.RETRAIN_EVERY + timedelta(minutes=1)
    assert train_now(now=later) == {CATEGORY_CLASSIFIER: 4 * ENOUGH + 1}
    assert list(ModelVersion.objects.filter(name=CATEGORY_CLASSIFIER).values_list("version", flat=True)) == [2, 1]
