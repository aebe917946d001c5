"""Quote writes: creation from a lead or a company, lines, stored totals, versions, revisions, statuses, timeline."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.contracts import TimelineQuery
from customers.tests.factories import ContactFactory, CustomerFactory
from leads import services as lead_services
from leads.models import Lead, StageKind
from quotes import services, timeline
from quotes.models import EventKind, QuoteEvent, QuoteLine, QuoteRevision, QuoteStatus

from .factories import QuoteTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote(customer, contact):
    return services.quote_create(actor=None, customer_id=customer.pk, contact_id=contact.pk, title="Rollout")


def _send(quote, product):
    services.quote_line_add(quote=quote, actor=None, product=product, data={"quantity": "2"})
    return services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)


def test_a_quote_from_a_lead_takes_the_lead_s_company_contact_title_and_currency(customer, contact):
    lead = lead_services.lead_create(
        actor=None, title="Helpdesk for Initrode", customer=customer, contact=contact, currency="EUR"
    )
    quote = services.quote_create(actor=None, lead_id=lead.pk)
    assert (quote.lead_id, quote.customer_id, quote.contact_id) == (lead.pk, customer.pk, contact.pk)
    assert quote.title == "Helpdesk for Initrode" and quote.currency == "EUR" and quote.status == QuoteStatus.DRAFT
    assert quote.valid_until == datetime.date.today() + datetime.timedelta(days=30)
    assert QuoteEvent.objects.filter(quote=quote, kind=EventKind.CREATED).exists()


def test_a_quote_needs_a_lead_or_a_company_and_a_contact_of_that_company(customer):
    with pytest.raises(ValidationError):
        services.quote_create(actor=None)
    with pytest.raises(ValidationError) as refused:
        services.quote_create(
            actor=None, customer_id=customer.pk, contact_id=ContactFactory(customer=CustomerFactory()).pk
        )
    assert "contact" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.quote_create(actor=None, lead_id=987654)


def test_a_product_line_takes_the_price_in_the_quote_s_currency_and_the_totals_are_stored(
    quote, product, service_product
):
    services.quote_line_add(quote=quote, actor=None, product=product, data={"quantity": "3", "discount": "10"})
    line = services.quote_line_add(quote=quote, actor=None, product=service_product, data={"quantity": "2"})
    quote.refresh_from_db()
    assert line.unit_price == Decimal("150.00") and line.tax_rate == Decimal("10") and line.unit_cost is None
    # 3 × 49 × 0.9 = 132.30 at 20%, 2 × 150 = 300 at 10%
    assert (quote.subtotal, quote.tax_total, quote.total) == (Decimal("432.30"), Decimal("56.46"), Decimal("488.76"))


def test_a_product_without_a_price_in_the_currency_comes_at_zero_and_its_cost_is_not_guessed(customer, product):
    quote = services.quote_create(actor=None, customer_id=customer.pk, currency="GBP")
    line = services.quote_line_add(quote=quote, actor=None, product=product)
    assert line.unit_price == 0 and line.unit_cost is None


def test_a_stale_editor_is_refused_and_nothing_changes(quote, product):
    line = services.quote_line_add(quote=quote, actor=None, product=product)
    seen = line.quote.version
    services.quote_line_update(line=line, actor=None, data={"quantity": "5"}, expected_version=seen)
    with pytest.raises(services.StaleQuote):
        services.quote_line_update(line=line, actor=None, data={"quantity": "7"}, expected_version=seen)
    line.refresh_from_db()
    assert line.quantity == Decimal("5")


def test_lines_reorder_and_move_with_the_keyboard(quote, product):
    a = services.quote_line_add(quote=quote, actor=None, kind=QuoteLine.Kind.SECTION, data={"description": "Licences"})
    b = services.quote_line_add(quote=quote, actor=None, product=product)
    c = services.quote_line_add(quote=quote, actor=None, data={"description": "Training", "unit_price": "500"})
    services.quote_lines_reorder(quote=quote, actor=None, line_ids=[c.pk, a.pk, b.pk])
    assert list(quote.lines.values_list("id", flat=True)) == [c.pk, a.pk, b.pk]
    services.quote_line_move(line=c, actor=None, offset=1)
    assert list(quote.lines.values_list("id", flat=True)) == [a.pk, c.pk, b.pk]
    with pytest.raises(ValidationError):
        services.quote_lines_reorder(quote=quote, actor=None, line_ids=[a.pk, b.pk])


def test_editing_a_sent_quote_opens_the_next_revision_and_keeps_the_sent_one(quote, product):
    _send(quote, product)
    line = quote.lines.get()
    services.quote_line_update(line=line, actor=None, data={"quantity": "10"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and quote.revision == 2
    first = QuoteRevision.objects.get(quote=quote, number=1)
    assert first.snapshot["lines"][0]["quantity"] == "2.000" and first.snapshot["totals"]["total"] == "117.60"
    services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)
    assert QuoteRevision.objects.get(quote=quote, number=2).snapshot["lines"][0]["quantity"] == "10.000"


def test_an_accepted_quote_is_closed_to_edits_and_wins_its_lead(customer, product):
    lead = lead_services.lead_create(actor=None, title="Deal", customer=customer)
    quote = services.quote_create(actor=None, lead_id=lead.pk)
    _send(quote, product)
    services.quote_status_set(quote=quote, status=QuoteStatus.ACCEPTED, actor=None)
    assert QuoteRevision.objects.get(quote=quote, number=1).accepted
    assert Lead.objects.select_related("stage").get(pk=lead.pk).stage.kind == StageKind.WON
    with pytest.raises(ValidationError):
        services.quote_line_add(quote=quote, actor=None, product=product)
    with pytest.raises(ValidationError):
        services.quote_update(quote=quote, actor=None, data={"title": "Changed"})


def test_status_changes_follow_the_allowed_moves(quote, product):
    with pytest.raises(ValidationError):  # nothing to send
        services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)
    with pytest.raises(ValidationError):
        services.quote_status_set(quote=quote, status=QuoteStatus.ACCEPTED, actor=None)
    _send(quote, product)
    with pytest.raises(ValidationError) as refused:
        services.quote_status_set(quote=quote, status=QuoteStatus.DECLINED, actor=None)
    assert "reason" in refused.value.message_dict
    services.quote_status_set(quote=quote, status=QuoteStatus.DECLINED, actor=None, reason="Too expensive")
    quote.refresh_from_db()
    assert quote.decline_reason == "Too expensive" and quote.closed_at is not None


def test_a_builder_session_is_one_edit_event_and_every_change_reaches_the_company_timeline(quote, product, customer):
    for quantity in ("1", "2", "3"):
        services.quote_line_add(quote=quote, actor=None, product=product, data={"quantity": quantity})
    _send(quote, product)
    assert QuoteEvent.objects.get(quote=quote, kind=EventKind.EDITED).changes == 4
    query = TimelineQuery(
        customer_id=customer.pk, contact_id=None, kinds=frozenset(k.name for k in timeline.KINDS), limit=10
    )
    titles = [entry.title for entry in timeline.timeline_entries(query)]
    assert titles[0] == f"Quote {quote.reference} sent"
    assert any(title.startswith(f"Quote {quote.reference} edited") for title in titles)
    assert titles[-1].startswith(f"New quote {quote.reference}")


def test_a_template_brings_its_lines_and_texts(customer, product):
    lines = [
        {"kind": "section", "description": "Licences"},
        {"sku": product.sku, "quantity": 5},
        {"description": "Setup", "optional": True},
    ]
    template = QuoteTemplateFactory(terms="Standard terms", validity_days=14, lines=lines)
    quote = services.quote_create(actor=None, customer_id=customer.pk, template=template)
    lines = list(quote.lines.all())
    assert [line.kind for line in lines] == ["section", "item", "item"] and lines[2].optional and not lines[2].selected
    assert quote.terms == "Standard terms" and quote.total == Decimal("294.00")  # 5 × 49 + 20 %
