"""What a printed quote shows: frozen dataclasses filled from a quote revision, and the money/number formats used
to print them.

The PDF renderer (quotes/pdf.py) reads only these, never models: a revision's snapshot becomes a
`QuoteDocument`, and the same document always prints the same bytes. Amounts arrive already computed and rounded
(quotes/totals.py decides the rounding rule); this module only formats them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# ISO 4217 minor units that are not 2 (the same table as the totals' rounding rule); every other currency has cents.
MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
# Symbols printed before the amount. Only unambiguous ones: "$" alone means US dollars here, other dollars and
# every other currency print their ISO code after the amount ("1,200.00 CHF").
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "ILS": "₪", "NGN": "₦"}
LOGO_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/svg+xml": "svg",
    "image/webp": "webp",
}
MAX_LOGO_BYTES = 2 * 1024 * 1024
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_MINUS = "\u2212"  # a real minus sign: a hyphen is easy to miss in a column of figures


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency` as a quantum: Decimal("0.01") for USD, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency.upper(), 2))


def money_format(amount: Decimal, currency: str, *, exact: bool = False) -> str:
    """`amount` in `currency` for print: "€1,234.50", "¥1,235", "1,234.500 KWD", "−$12.00".

    Rounded half up to the currency's minor unit (a no-op for amounts the totals already rounded); grouping with
    commas and a decimal point, English style, whatever the currency. `exact` keeps finer digits a unit price
    may have ("$0.0125" per message), so a printed price times the quantity gives the printed amount.
    """
    currency = currency.upper()
    amount = Decimal(amount)
    quantum = minor_unit(currency)
    if exact and amount.normalize().as_tuple().exponent < quantum.as_tuple().exponent:
        quantum = Decimal(1).scaleb(amount.normalize().as_tuple().exponent)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    digits = f"{abs(rounded):,f}"
    sign = _MINUS if rounded < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency}"


def number_format(value: Decimal) -> str:
    """A quantity or a rate without trailing zeros and never in exponent form: 3, 2.5, 1,000, 0.125."""
    value = Decimal(value)
    normalized = value.normalize() if value else Decimal(0)
    text = f"{normalized:,f}"
    return text.replace("-", _MINUS)


def percent_format(value: Decimal) -> str:
    return f"{number_format(value)}%"


def date_format(value: date) -> str:
    """Dates as "7 December 2026": no day/month order to misread across countries."""
    return f"{value.day} {value:%B %Y}"


@dataclass(frozen=True)
class Logo:
    """The workspace's logo as uploaded; printed at a fixed height in the header."""

    data: bytes
    mime: str  # one of LOGO_FORMATS

    def __post_init__(self) -> None:
        if self.mime not in LOGO_FORMATS:
            raise ValueError(f"Unsupported logo type {self.mime!r}: use one of {', '.join(LOGO_FORMATS)}.")
        if not self.data or len(self.data) > MAX_LOGO_BYTES:
            raise ValueError("The logo must be between 1 byte and 2 MiB.")

    @property
    def format(self) -> str:
        return LOGO_FORMATS[self.mime]


@dataclass(frozen=True)
class Party:
    """Who the quote is for (the company, or the lead's organisation)."""

    name: str
    address_lines: tuple[str, ...] = ()
    tax_id: str = ""
    email: str = ""


@dataclass(frozen=True)
class Contact:
    """The person at the customer the quote is addressed to."""

    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DocumentLine:
    """One priced line. `line_total` is the net amount (after discount, before tax), rounded by the totals rule."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal  # percent off, 0–100
    tax_rate: Decimal  # percent
    line_total: Decimal
    optional: bool = False
    # Only meaningful for optional lines: whether the customer ticked it (an unticked one is printed but not counted).
    selected: bool = True
    sku: str = ""

    @property
    def counted(self) -> bool:
        return not self.optional or self.selected


@dataclass(frozen=True)
class DocumentSection:
    """Lines under one heading; the first section may have no heading (lines before any heading)."""

    title: str
    lines: tuple[DocumentLine, ...]


@dataclass(frozen=True)
class TaxLine:
    """The tax at one rate: `amount` = `base` × `rate` / 100, rounded once (quotes/totals.py)."""

    rate: Decimal  # percent
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class QuoteDocument:
    """Everything a quote's PDF prints, for one revision."""

    workspace_name: str
    quote_number: str  # as shown: "Q-00042"
    revision: int
    issue_date: date
    currency: str  # ISO 4217
    customer: Party
    sections: tuple[DocumentSection, ...]
    tax_lines: tuple[TaxLine, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    title: str = ""
    valid_until: date | None = None
    contact: Contact | None = None
    brand_colour: str = "#2563eb"  # "#rrggbb"
    logo: Logo | None = None
    payment_terms: str = ""
    notes: str = ""
    terms: str = ""  # terms and conditions
    public_url: str = ""  # the signed link where the customer accepts; printed and clickable

    def __post_init__(self) -> None:
        # Both reach the PDF as values (never markup), but a wrong one would fail the render, so refuse it here.
        if not _HEX_COLOUR.fullmatch(self.brand_colour):
            raise ValueError(f"Brand colour must look like #1a2b3c, not {self.brand_colour!r}.")
        if not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"Currency must be an ISO 4217 code like EUR, not {self.currency!r}.")
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise ValueError("The public link must be an http(s) URL.")

    @property
    def lines(self) -> tuple[DocumentLine, ...]:
        return tuple(line for section in self.sections for line in section.lines)


def document_sections(lines: Iterable[Mapping[str, Any]]) -> tuple[DocumentSection, ...]:
    """Snapshot lines (dicts: kind, description, quantity, unit, unit_price, discount, tax_rate, optional,
    selected, net; optional sku) grouped under their section headings, in order. Lines before the first heading
    form a section without a title; a heading with no line under it is kept (it still prints)."""
    sections: list[DocumentSection] = []
    title, items = "", []
    for line in lines:
        if line.get("kind") == "section":
            if title or items:
                sections.append(DocumentSection(title=title, lines=tuple(items)))
            title, items = line.get("description", ""), []
            continue
        items.append(
            DocumentLine(
                description=line.get("description", ""),
                quantity=Decimal(line["quantity"]),
                unit=line.get("unit", ""),
                unit_price=Decimal(line["unit_price"]),
                discount=Decimal(line.get("discount") or 0),
                tax_rate=Decimal(line.get("tax_rate") or 0),
                line_total=Decimal(line["net"]),
                optional=bool(line.get("optional")),
                selected=bool(line.get("selected", True)),
                sku=line.get("sku") or "",
            )
        )
    if title or items:
        sections.append(DocumentSection(title=title, lines=tuple(items)))
    return tuple(sections)


def document_from_snapshot(
    snapshot: Mapping[str, Any],
    *,
    workspace_name: str,
    revision: int,
    issue_date: date,
    customer: Party,
    contact: Contact | None = None,
    brand_colour: str = "#2563eb",
    logo: Logo | None = None,
    public_url: str = "",
) -> QuoteDocument:
    """The document of a frozen revision: `snapshot` as quotes.services.quote_snapshot writes it (number, title,
    currency, valid_until, payment_terms, notes, terms, lines, totals with subtotal/taxes/tax_total/total)."""
    totals = snapshot["totals"]
    valid_until = snapshot.get("valid_until")
    return QuoteDocument(
        workspace_name=workspace_name,
        quote_number=snapshot["number"],
        revision=revision,
        issue_date=issue_date,
        currency=snapshot["currency"],
        customer=customer,
        sections=document_sections(snapshot["lines"]),
        tax_lines=tuple(
            TaxLine(rate=Decimal(t["rate"]), base=Decimal(t["base"]), amount=Decimal(t["amount"]))
            for t in totals.get("taxes", ())
        ),
        subtotal=Decimal(totals["subtotal"]),
        tax_total=Decimal(totals["tax_total"]),
        total=Decimal(totals["total"]),
        title=snapshot.get("title", ""),
        valid_until=date.fromisoformat(valid_until) if valid_until else None,
        contact=contact,
        brand_colour=brand_colour,
        logo=logo,
        payment_terms=snapshot.get("payment_terms", ""),
        notes=snapshot.get("notes", ""),
        terms=snapshot.get("terms", ""),
        public_url=public_url,
    )


_SAMPLE_ITEMS = (
    ("Onboarding workshop", "day", Decimal("1200.00"), Decimal(20)),
    ("Helpdesk seat, annual", "seat", Decimal("348.00"), Decimal(20)),
    ("SLA Premium support", "year", Decimal("2400.00"), Decimal(20)),
    ("Data migration from the old helpdesk, with a mapping review and two test imports", "project",
     Decimal("3150.00"), Decimal(20)),
    ("Printed quick-reference cards", "pack", Decimal("19.90"), Decimal("5.5")),
    ("SMS credits", "message", Decimal("0.0125"), Decimal(0)),
)  # fmt: skip


def document_sample(
    *,
    lines: int = 6,
    workspace_name: str = "Northwind Support",
    brand_colour: str = "#2563eb",
    logo: Logo | None = None,
    currency: str = "EUR",
) -> QuoteDocument:
    """A made-up quote with `lines` priced lines in sections of ten: a branding preview, the PDF tests and
    bench. Totals follow the rule of quotes/totals.py (round each line, sum, tax once per rate)."""
    quantum = minor_unit(currency)
    items = []
    for index in range(lines):
        description, unit, price, rate = _SAMPLE_ITEMS[index % len(_SAMPLE_ITEMS)]
        quantity = Decimal(index % 4 + 1) if unit != "message" else Decimal(20000)
        discount = Decimal(10) if index % 5 == 4 else Decimal(0)
        net = (quantity * price * (100 - discount) / 100).quantize(quantum, rounding=ROUND_HALF_UP)
        optional = index % 7 == 6
        items.append(
            DocumentLine(
                description=description,
                quantity=quantity,
                unit=unit,
                unit_price=price,
                discount=discount,
                tax_rate=rate,
                line_total=net,
                optional=optional,
                selected=optional and index % 2 == 0,
                sku=f"SKU-{index % len(_SAMPLE_ITEMS) + 1:03d}",
            )
        )
    sections = tuple(
        DocumentSection(title=f"Phase {start // 10 + 1}" if lines > 10 else "", lines=tuple(items[start : start + 10]))
        for start in range(0, lines, 10)
    )
    bases: dict[Decimal, Decimal] = {}
    for item in items:
        if item.counted:
            bases[item.tax_rate] = bases.get(item.tax_rate, Decimal(0)) + item.line_total
    taxes = tuple(
        TaxLine(rate=rate, base=base, amount=(base * rate / 100).quantize(quantum, rounding=ROUND_HALF_UP))
        for rate, base in sorted(bases.items())
        if rate
    )
    subtotal = sum(bases.values(), Decimal(0))
    tax_total = sum((tax.amount for tax in taxes), Decimal(0))
    return QuoteDocument(
        workspace_name=workspace_name,
        quote_number="Q-00042",
        revision=2,
        issue_date=date(2026, 12, 7),
        valid_until=date(2027, 1, 6),
        currency=currency,
        title="Helpdesk rollout for 40 agents",
        customer=Party(
            name="Contoso Retail GmbH",
            address_lines=("Hauptstraße 5", "10115 Berlin", "Germany"),
            tax_id="DE123456789",
            email="purchasing@contoso.example",
        ),
        contact=Contact(name="Dana Lee", email="dana.lee@contoso.example", phone="+49 30 1234567"),
        sections=sections,
        tax_lines=taxes,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        brand_colour=brand_colour,
        logo=logo,
        payment_terms="30 days net from the invoice date.\nBank transfer.",
        notes="Thank you for the call on Tuesday. This quote covers the rollout we discussed.",
        terms="Prices exclude travel. Licences renew yearly unless cancelled 30 days before renewal.",
        public_url="https://northwind.switchboard.example/q/eyJxIjo0Mn0.sig",
    )
