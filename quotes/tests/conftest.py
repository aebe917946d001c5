"""Fixtures for quotes' tests: a small catalog with USD prices, and a company to quote."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.tests.factories import ContactFactory, CustomerFactory

from .factories import ProductFactory, ProductPriceFactory


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Initrode")


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Peter Gibbons")


@pytest.fixture
def product(db):
    product = ProductFactory(sku="SEAT-PRO", name="Pro seat", tax_rate=Decimal("20"), cost=Decimal("30"))
    ProductPriceFactory(product=product, currency="USD", unit_price=Decimal("49.00"))
    ProductPriceFactory(product=product, currency="EUR", unit_price=Decimal("45.00"))
    return product


@pytest.fixture
def service_product(db):
    product = ProductFactory(sku="ONBOARD", name="Onboarding", unit="hour", tax_rate=Decimal("10"), cost=None)
    ProductPriceFactory(product=product, currency="USD", unit_price=Decimal("150.00"))
    return product
