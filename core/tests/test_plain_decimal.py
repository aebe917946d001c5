"""`plain_decimal`: what a quantity, price or rate shows in a page or an input, never in exponent form."""

from decimal import Decimal

import pytest
from django.template import Context, Template


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("20.00"), "20"),
        (Decimal("100"), "100"),
        (Decimal("2.500"), "2.5"),
        (Decimal("0.0125"), "0.0125"),
        (Decimal("0.000"), "0"),
        (Decimal("1000.0000"), "1000"),
        (None, ""),
    ],
)
def test_round_numbers_never_show_an_exponent(value, shown):
    assert Template("{% load numbers %}{{ value|plain_decimal }}").render(Context({"value": value})) == shown
