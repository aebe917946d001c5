"""Quote hurdles' clarifying questions: the quote copilot's questions on the period's open quotes, grouped by meaning,
each group with the quotes it concerns; computed for the report without recording AI runs."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from django.utils import timezone

from ai.models import AIRun
from customers.tests.factories import ContactFactory
from insights import hurdles
from leads.tests.factories import LeadFactory
from quotes.tests.factories import QuoteFactory, QuoteLineFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
WHO_DECIDES = "Who else takes part in the decision, and what would make it easy for them to say yes?"
WHEN_DECIDED = "When do you expect to make a decision, so we can keep the offer open until then?"


def _open_quote(*, status: str = "sent", created=None, **fields):
    """A quote on a lead with nothing logged and without a validity date (its terms and contact set): the copilot
    asks who decides and when."""
    created = created or NOW - timedelta(days=3)
    contact = ContactFactory()
    quote = QuoteFactory(
        status=status, lead=LeadFactory(), valid_until=None, created=created, payment_terms="Net 30",
        customer=contact.customer, contact=contact, **fields,
    )  # fmt: skip
    QuoteLineFactory(quote=quote, description="Pro seat licences for the support team")
    return quote


def test_questions_that_come_up_on_many_open_quotes_are_grouped_with_those_quotes():
    asked = [_open_quote(), _open_quote(status="viewed"), _open_quote(status="draft")]
    _open_quote(status="accepted")  # answered: no longer a question
    _open_quote(created=NOW - timedelta(days=hurdles.DAYS + 30))  # before the period
    copilot_runs = AIRun.objects.filter(feature="quote_questions")

    found = hurdles.quote_hurdles_detect(now=NOW)

    by_name = {cluster.name: cluster for cluster in found.questions}
    assert set(by_name) == {WHO_DECIDES, WHEN_DECIDED}
    for cluster in by_name.values():
        assert cluster.count == 3 and set(cluster.quote_ids) == {quote.pk for quote in asked}
        assert {reference for _, reference in cluster.quotes} == {quote.reference for quote in asked}
        assert cluster.examples == [(cluster.name, 3)]
    assert not copilot_runs.exists()  # a report records no copilot suggestion (only the embedding is a run)


def _fake_embed(vectors: dict[str, list[float]]):
    def embed(texts, *, feature):
        return SimpleNamespace(vectors=[vectors[text] for text in texts])

    return embed


def test_wordings_of_one_question_form_one_group_named_by_the_most_asked(monkeypatch):
    quarterly, billing, salesforce = "Can we pay quarterly?", "Is quarterly billing possible?", "Salesforce sync?"
    vectors = {quarterly: [1.0, 0.05, 0.0], billing: [1.0, 0.2, 0.0], salesforce: [0.0, 0.0, 1.0]}
    monkeypatch.setattr(hurdles.ai, "embed", _fake_embed(vectors))
    items = [
        (1, "Q-1", quarterly),
        (2, "Q-2", quarterly),
        (2, "Q-2", billing),  # one quote asking twice counts once
        (3, "Q-3", billing),
        (4, "Q-4", quarterly),
        (5, "Q-5", salesforce),
    ]

    groups = hurdles.texts_cluster(items, distance=hurdles.QUESTION_LINK_DISTANCE, named_by_keywords=False)

    assert [(group.name, group.count) for group in groups] == [(quarterly, 4), (salesforce, 1)]
    assert groups[0].examples == [(quarterly, 3), (billing, 2)]
    assert groups[0].quotes == [(1, "Q-1"), (2, "Q-2"), (3, "Q-3"), (4, "Q-4")]


def test_questions_far_apart_in_meaning_stay_apart(monkeypatch):
    texts = [f"Question {index}?" for index in range(4)]
    vectors = {text: np.eye(4)[index].tolist() for index, text in enumerate(texts)}  # orthogonal
    monkeypatch.setattr(hurdles.ai, "embed", _fake_embed(vectors))

    groups = hurdles.clarifying_questions_cluster(
        [SimpleNamespace(quote=SimpleNamespace(id=index, reference=f"Q-{index}"), text=text) for index, text in
         enumerate(texts)]
    )  # fmt: skip

    assert sorted(group.name for group in groups) == texts and all(group.count == 1 for group in groups)
    assert hurdles.clarifying_questions_cluster([]) == []
