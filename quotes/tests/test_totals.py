"""The one rounding rule: each line rounded to the currency's minor unit (half up), then summed; tax per rate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quotes.totals import line_net, minor_unit, quote_margin, quote_totals


@dataclass
class Line:
    quantity: Decimal = Decimal(1)
    unit_price: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    kind: str = "item"
    optional: bool = False
    selected: bool = True
    unit_cost: Decimal | None = None


def D(value: str) -> Decimal:
    return Decimal(value)


def test_each_line_is_rounded_half_up_before_the_sum():
    # 3 × 0.335 = 1.005 → 1.01 per line (half up), so two lines are 2.02, not round(2.010) = 2.01.
    lines = [Line(quantity=D("3"), unit_price=D("0.335")), Line(quantity=D("3"), unit_price=D("0.335"))]
    totals = quote_totals(lines, "USD")
    assert [totals.nets[0], totals.nets[1]] == [D("1.01"), D("1.01")]
    assert totals.subtotal == D("2.02")


def test_discount_applies_before_the_line_is_rounded():
    assert line_net(Line(quantity=D("1"), unit_price=D("9.99"), discount=D("15")), "USD") == D("8.49")  # 8.4915


def test_tax_is_computed_once_per_rate_on_the_rounded_lines():
    lines = [
        Line(unit_price=D("0.05"), tax_rate=D("10")),
        Line(unit_price=D("0.05"), tax_rate=D("10")),
        Line(unit_price=D("10.00"), tax_rate=D("20")),
    ]
    totals = quote_totals(lines, "USD")
    # 10% of 0.10 = 0.01 (per line it would be 0.005 → 0.01 twice = 0.02).
    assert [(t.rate, t.base, t.amount) for t in totals.taxes] == [
        (D("10"), D("0.10"), D("0.01")),
        (D("20"), D("10.00"), D("2.00")),
    ]
    assert totals.tax_total == D("2.01") and totals.total == D("12.11")


def test_currencies_round_to_their_own_minor_unit():
    assert minor_unit("JPY") == D("1") and minor_unit("KWD") == D("0.001") and minor_unit("eur") == D("0.01")
    assert quote_totals([Line(quantity=D("3"), unit_price=D("33.5"))], "JPY").subtotal == D("101")  # 100.5 → 101
    assert quote_totals([Line(quantity=D("1"), unit_price=D("1.0005"))], "KWD").subtotal == D("1.001")


def test_unticked_optional_lines_and_headings_stay_out_of_the_totals():
    lines = [
        Line(kind="section", unit_price=D("999")),
        Line(unit_price=D("100"), tax_rate=D("20")),
        Line(unit_price=D("50"), tax_rate=D("20"), optional=True, selected=False),
        Line(unit_price=D("30"), tax_rate=D("20"), optional=True, selected=True),
    ]
    totals = quote_totals(lines, "USD")
    assert totals.subtotal == D("130.00") and totals.tax_total == D("26.00") and totals.total == D("156.00")
    assert totals.optional_total == D("50.00")


def test_margin_leaves_out_lines_without_a_cost():
    lines = [
        Line(quantity=D("2"), unit_price=D("100"), unit_cost=D("60")),
        Line(unit_price=D("500")),  # a service with no known cost
    ]
    margin = quote_margin(lines, "USD")
    assert (margin.revenue, margin.cost, margin.amount, margin.percent) == (
        D("200.00"),
        D("120.00"),
        D("80.00"),
        D("40.0"),
    )
    assert margin.lines_without_cost == 1
