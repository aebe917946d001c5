"""Demo quotes: a catalog with bundles, ~150 quotes following their leads, and co-purchase patterns to learn."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from customers.tests.factories import ContactFactory
from leads.demo import seed_leads
from quotes.demo import seed_quotes
from quotes.models import Product, ProductRelation, Quote, QuoteRevision, QuoteSequence, QuoteStatus
from quotes.totals import quote_totals

pytestmark = pytest.mark.django_db


def test_seed_quotes_follows_the_leads_with_real_patterns_and_is_idempotent():
    ContactFactory.create_batch(20)
    sellers = [UserFactory(role="sales"), UserFactory(role="admin")]
    seed_leads(owners=sellers, leads=300, seed=1)

    assert seed_quotes(owners=sellers, seed=1) == 150
    assert seed_quotes(owners=sellers, seed=1) == 0

    assert 38 <= Product.objects.count() <= 45 and Product.objects.filter(category="Bundles").exists()
    numbers = sorted(Quote.objects.values_list("number", flat=True))
    # The sequence may have been used before (committed by other tests' connections): the next 150, no gap.
    assert numbers == list(range(numbers[0], numbers[0] + 150))
    assert QuoteSequence.objects.get().last_value == numbers[-1]
    statuses = set(Quote.objects.values_list("status", flat=True))
    assert {QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.DRAFT, QuoteStatus.SENT} <= statuses
    accepted = Quote.objects.filter(status=QuoteStatus.ACCEPTED)
    assert accepted.exists() and not accepted.exclude(lead__stage__kind="won").exists()
    assert QuoteRevision.objects.filter(accepted=True).count() == accepted.count()
    quote = accepted.first()
    assert quote.total == quote_totals(list(quote.lines.all()), quote.currency).total
    # Voice seats and headsets go together far more than chance: the learned relation is there.
    learned = ProductRelation.objects.filter(source="learned")
    assert learned.exists() and all(relation.lift > 1 for relation in learned)
