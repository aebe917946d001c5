"""Test data for the catalog, quotes, their lines, revisions and events, the number sequence and templates."""

from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from quotes.models import (
    BundleItem,
    Product,
    ProductPrice,
    ProductRelation,
    Quote,
    QuoteAcceptance,
    QuoteEvent,
    QuoteLine,
    QuoteRevision,
    QuoteSequence,
    QuoteSettings,
    QuoteTemplate,
)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit = "unit"
    category = "Software"
    tax_rate = Decimal("20.00")
    cost = Decimal("40.0000")
    cost_currency = "USD"


class ProductPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductPrice

    product = factory.SubFactory(ProductFactory)
    currency = "USD"
    unit_price = Decimal("100.0000")


class BundleItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BundleItem

    bundle = factory.SubFactory(ProductFactory)
    component = factory.SubFactory(ProductFactory)
    quantity = Decimal("1.000")


class ProductRelationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductRelation

    product = factory.SubFactory(ProductFactory)
    related = factory.SubFactory(ProductFactory)


class QuoteSequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteSequence

    name = factory.Sequence(lambda n: f"seq-{n}")


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quote

    # Far above what the sequence hands out in tests, so factory quotes never take a number a service will.
    number = factory.Sequence(lambda n: 900_000 + n)
    title = factory.Sequence(lambda n: f"Quote {n}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.SubFactory(UserFactory)
    currency = "USD"


class QuoteLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteLine

    quote = factory.SubFactory(QuoteFactory)
    position = factory.Sequence(lambda n: n)
    description = factory.Sequence(lambda n: f"Line {n}")
    quantity = Decimal("1.000")
    unit_price = Decimal("100.0000")
    tax_rate = Decimal("20.00")


class QuoteRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteRevision

    quote = factory.SubFactory(QuoteFactory)
    number = factory.Sequence(lambda n: n + 1)
    # What quotes.services.quote_snapshot freezes, for a quote without lines (the PDF prints it from this).
    snapshot = factory.LazyAttribute(
        lambda revision: {
            "number": revision.quote.reference,
            "title": revision.quote.title,
            "currency": revision.quote.currency,
            "valid_until": None,
            "payment_terms": "",
            "notes": "",
            "terms": "",
            "lines": [],
            "totals": {
                "currency": revision.quote.currency,
                "subtotal": "0",
                "taxes": [],
                "tax_total": "0",
                "total": "0",
            },
        }
    )


class QuoteAcceptanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteAcceptance

    quote = factory.SubFactory(QuoteFactory)
    revision = factory.SubFactory(QuoteRevisionFactory, quote=factory.SelfAttribute("..quote"))
    name = factory.Sequence(lambda n: f"Customer {n}")
    ip = "203.0.113.7"
    user_agent = "Mozilla/5.0 (test)"
    revision_sha256 = "0" * 64


class QuoteEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteEvent

    quote = factory.SubFactory(QuoteFactory)
    kind = QuoteEvent.Kind.CREATED
    summary = "Created"


class QuoteTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    payment_terms = "Net 30"


class QuoteSettingsFactory(factory.django.DjangoModelFactory):
    """The workspace's one quote settings row (pk=1): fetched if it exists, so tests may build it freely."""

    class Meta:
        model = QuoteSettings
        django_get_or_create = ("id",)

    id = 1
    brand_colour = "#0f766e"


def quote_sent(*, lines: int = 1, **fields) -> Quote:
    """A quote with `lines` item lines (100.00 at 20 % tax each), sent through the services: its revision frozen."""
    from quotes import services

    quote = QuoteFactory(**fields)
    for _ in range(lines):
        QuoteLineFactory(quote=quote)
    return services.quote_status_set(quote=quote, status=Quote.Status.SENT, actor=None)
