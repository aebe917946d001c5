"""Quote totals with Decimal and one rounding rule, the same for the builder, the API, revisions and the PDF.

The rule (documented to customers as "per line, then sum"):

1. A line's net amount is quantity × unit price × (1 − discount / 100), rounded once to the currency's minor
   unit (cents for USD/EUR, whole yen for JPY, three places for KWD…) with ROUND_HALF_UP.
2. The subtotal is the sum of the rounded line amounts that count: every line that is not optional, and the
   optional lines the customer ticked (`selected`). Section headings carry no amount.
3. Tax is computed per rate: the rounded line amounts at one rate are summed, then taxed once and rounded
   (ROUND_HALF_UP to the minor unit). Rounding each line's tax would drift a cent per line on long quotes.
4. The total is the subtotal plus the tax of every rate.

Margin (shown to staff only) compares the counted lines' net amounts with their cost (quantity × unit cost,
rounded the same way); lines without a known cost are left out of both sides, and said so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

# ISO 4217 minor units that are not 2; every other currency has cents.
MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
HUNDRED = Decimal(100)


class LineLike(Protocol):
    kind: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    optional: bool
    selected: bool
    unit_cost: Decimal | None


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency` as a quantum: Decimal("0.01") for USD, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency.upper(), 2))


def money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def line_net(line: LineLike, currency: str) -> Decimal:
    """The line's amount before tax, rounded to the currency's minor unit (0 for a section heading)."""
    if line.kind == "section":
        return money(Decimal(0), currency)
    gross = Decimal(line.quantity) * Decimal(line.unit_price)
    return money(gross * (HUNDRED - Decimal(line.discount)) / HUNDRED, currency)


def line_counts(line: LineLike) -> bool:
    """Whether the line is in the totals: not a heading, and not an optional line left unticked."""
    return line.kind != "section" and (not line.optional or line.selected)


@dataclass(frozen=True)
class TaxAmount:
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    currency: str
    subtotal: Decimal
    taxes: tuple[TaxAmount, ...]
    tax_total: Decimal
    total: Decimal
    nets: dict[int, Decimal] = field(default_factory=dict, compare=False)  # by line index in the input order
    optional_total: Decimal = Decimal(0)  # unticked optional lines: what ticking them all would add before tax

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "subtotal": str(self.subtotal),
            "taxes": [{"rate": str(t.rate), "base": str(t.base), "amount": str(t.amount)} for t in self.taxes],
            "tax_total": str(self.tax_total),
            "total": str(self.total),
        }


def quote_totals(lines: Iterable[LineLike], currency: str) -> Totals:
    """The totals of `lines` by the rule above."""
    zero = money(Decimal(0), currency)
    nets: dict[int, Decimal] = {}
    bases: dict[Decimal, Decimal] = {}
    subtotal = optional_total = zero
    for index, line in enumerate(lines):
        net = line_net(line, currency)
        nets[index] = net
        if line_counts(line):
            subtotal += net
            rate = Decimal(line.tax_rate).normalize()
            bases[rate] = bases.get(rate, zero) + net
        elif line.kind != "section":
            optional_total += net
    taxes = tuple(
        TaxAmount(rate=rate, base=base, amount=money(base * rate / HUNDRED, currency))
        for rate, base in sorted(bases.items())
        if rate
    )
    tax_total = sum((tax.amount for tax in taxes), zero)
    return Totals(
        currency=currency,
        subtotal=subtotal,
        taxes=taxes,
        tax_total=tax_total,
        total=subtotal + tax_total,
        nets=nets,
        optional_total=optional_total,
    )


@dataclass(frozen=True)
class Margin:
    revenue: Decimal  # net amount of the counted lines that have a cost
    cost: Decimal
    amount: Decimal
    percent: Decimal | None  # of revenue; None when there is no revenue with a known cost
    lines_without_cost: int


def quote_margin(lines: Iterable[LineLike], currency: str) -> Margin:
    zero = money(Decimal(0), currency)
    revenue = cost = zero
    unknown = 0
    for line in lines:
        if not line_counts(line):
            continue
        if line.unit_cost is None:
            unknown += 1
            continue
        revenue += line_net(line, currency)
        cost += money(Decimal(line.quantity) * Decimal(line.unit_cost), currency)
    amount = revenue - cost
    percent = (amount * HUNDRED / revenue).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if revenue else None
    return Margin(revenue=revenue, cost=cost, amount=amount, percent=percent, lines_without_cost=unknown)
