"""Quote PDFs: what a customer reads on paper (totals, page numbers, their own text as typed) and what makes the
file trustworthy (fonts embedded, the same bytes for the same revision). No database: documents are plain data.

The PDF is read back with the small reader below (content streams + ToUnicode maps), enough for Typst's output.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from quotes.documents import (
    DocumentLine,
    DocumentSection,
    Logo,
    Party,
    QuoteDocument,
    document_from_snapshot,
    document_sample,
    money_format,
    number_format,
    percent_format,
)
from quotes.pdf import quote_pdf_inputs, quote_pdf_render, quote_pdf_sha256

HOSTILE = '#import "@preview/evil:0.1.0": * ] $x^2$ #read("/etc/passwd") *bold* <label> @ref // not a comment'


# --- A small PDF reader -------------------------------------------------------------------------


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m[1]): m[2] for m in re.finditer(rb"(\d+) 0 obj\s*(.*?)\s*endobj", pdf, re.S)}


def _stream(obj: bytes) -> bytes:
    data = re.search(rb"stream\r?\n(.*?)\r?\n?endstream", obj, re.S)[1]
    return zlib.decompress(data) if b"/FlateDecode" in obj.split(b"stream", 1)[0] else data


def _ref(obj: bytes, key: bytes) -> int | None:
    found = re.search(rb"/" + key + rb"\s*(\d+) 0 R", obj)
    return int(found[1]) if found else None


def _cmap(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap's glyph → text map (bfchar and bfrange entries)."""
    mapping: dict[int, str] = {}

    def text(hex_: bytes) -> str:
        return bytes.fromhex(hex_.decode()).decode("utf-16-be")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for cid, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(cid, 16)] = text(uni)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(start, 16)
            for offset, cid in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[cid] = chr(first + offset)
    return mapping


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _literal(raw: bytes) -> bytes:
    """A PDF literal string's bytes, escapes resolved."""

    def unescape(m: re.Match[bytes]) -> bytes:
        token = m[1]
        if token[:1].isdigit():
            return bytes([int(token, 8)])
        return _ESCAPES.get(token, token)

    return re.sub(rb"\\([0-7]{1,3}|.)", unescape, raw, flags=re.S)


_FONT = re.compile(rb"/(\w+)\s+[\d.]+\s+Tf")


def _literal_end(content: bytes, start: int) -> int:
    """The index just past the literal string opening at `start` (parentheses nest unless escaped)."""
    depth, index = 0, start
    while True:
        char = content[index : index + 1]
        if char == b"\\":
            index += 1
        elif char == b"(":
            depth += 1
        elif char == b")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1


def _content_text(content: bytes, cmaps: dict[str, dict[int, str]]) -> str:
    out: list[str] = []
    cmap: dict[int, str] = {}
    index = 0
    while index < len(content):
        char = content[index : index + 1]
        if char == b"(":
            end = _literal_end(content, index)
            data = _literal(content[index + 1 : end - 1])
        elif char == b"<" and content[index + 1 : index + 2] != b"<":
            end = content.index(b">", index) + 1
            data = bytes.fromhex(content[index + 1 : end - 1].decode())
        else:
            font = _FONT.match(content, index)
            if font:
                cmap = cmaps[font[1].decode()]
            elif content.startswith(b"ET", index):
                out.append("\n")
            # A dictionary's "<<" is not the start of a hex string.
            index = font.end() if font else index + (2 if content.startswith(b"<<", index) else 1)
            continue
        out.extend(cmap.get(cid, "\ufffd") for (cid,) in struct.iter_unpack(">H", data))
        index = end
    return "".join(out)


def pdf_pages_text(pdf: bytes) -> list[str]:
    """Each page's text, one line per text object, in drawing order."""
    objects = _objects(pdf)
    pages = []
    for obj in objects.values():
        if not re.search(rb"/Type\s*/Page\b", obj):
            continue
        resources = objects[_ref(obj, b"Resources")]
        font_dict = re.search(rb"/Font\s*<<(.*?)>>", resources, re.S)[1]
        cmaps = {
            name.decode(): _cmap(_stream(objects[_ref(objects[int(num)], b"ToUnicode")]))
            for name, num in re.findall(rb"/(\w+)\s+(\d+) 0 R", font_dict)
        }
        pages.append(_content_text(_stream(objects[_ref(obj, b"Contents")]), cmaps))
    return pages


def squash(text: str) -> str:
    """Text without whitespace: where a line wraps, or a label and its figure are separate text objects."""
    return re.sub(r"\s+", "", text)


def fonts_without_file(pdf: bytes) -> list[str]:
    """Base names of the fonts the PDF uses but does not carry."""
    objects = _objects(pdf).values()
    descriptors = [obj for obj in objects if re.search(rb"/Type\s*/FontDescriptor", obj)]
    missing = [obj for obj in descriptors if not re.search(rb"/FontFile[23]?\s", obj)]
    return [re.search(rb"/FontName\s*/([^\s/<>\[\]]+)", obj)[1].decode() for obj in missing]


# --- Tests --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_pdf() -> bytes:
    return quote_pdf_render(document_sample(lines=3))


@pytest.fixture(scope="module")
def long_pdf() -> bytes:
    return quote_pdf_render(document_sample(lines=50))


def test_short_quote_prints_its_totals_on_one_numbered_page(short_pdf: bytes) -> None:
    document = document_sample(lines=3)
    pages = pdf_pages_text(short_pdf)

    assert len(pages) == 1
    text = squash(pages[0])
    assert squash("Page 1 of 1") in text
    assert squash(f"Total EUR {money_format(document.total, 'EUR')}") in text
    assert squash(f"Subtotal {money_format(document.subtotal, 'EUR')}") in text
    assert squash("Tax 20% on €9,096.00 €1,819.20") in text
    assert squash("Contoso Retail GmbH") in text and squash("Valid until 6 January 2027") in text


def test_long_quote_repeats_the_line_header_and_numbers_every_page(long_pdf: bytes) -> None:
    pages = pdf_pages_text(long_pdf)

    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert squash(f"Page {number} of {len(pages)}") in squash(page)
        assert squash("Description Qty Unit price Disc. Tax Amount") in squash(page)


def test_long_quote_keeps_the_totals_table_on_one_page(long_pdf: bytes) -> None:
    document = document_sample(lines=50)
    total = squash(f"Total EUR {money_format(document.total, 'EUR')}")
    pages = [squash(page) for page in pdf_pages_text(long_pdf)]

    with_total = [page for page in pages if total in page]
    assert len(with_total) == 1
    assert "Subtotal" in with_total[0]
    assert all(
        squash(f"Tax {percent_format(t.rate)} on {money_format(t.base, 'EUR')}") in with_total[0]
        for t in document.tax_lines
    )


def test_every_font_is_embedded(short_pdf: bytes, long_pdf: bytes) -> None:
    for pdf in (short_pdf, long_pdf):
        assert b"/FontDescriptor" in pdf
        assert fonts_without_file(pdf) == []


def test_users_text_is_printed_literally_never_run_as_typst() -> None:
    line = DocumentLine(
        description=HOSTILE,
        quantity=Decimal(1),
        unit="]",
        unit_price=Decimal(5),
        discount=Decimal(0),
        tax_rate=Decimal(0),
        line_total=Decimal(5),
    )
    base = document_sample(lines=1)
    document = replace(
        base,
        sections=(DocumentSection(title="#set page(width: 1cm)", lines=(line,)),),
        customer=replace(base.customer, name="$ Evil ] Corp #"),
        notes="#pagebreak() #pagebreak()\n\\ ] [",
    )

    pages = pdf_pages_text(quote_pdf_render(document))

    text = squash(pages[0])
    assert len(pages) == 1
    assert squash(HOSTILE) in text
    assert squash("#set page(width: 1cm)") in text
    assert squash("$ Evil ] Corp #") in text
    assert squash("#pagebreak() #pagebreak()") in text and squash("\\ ] [") in text
    assert "root:" not in text


def test_a_description_longer_than_a_page_continues_on_the_next_page_instead_of_running_off() -> None:
    base = document_sample(lines=3)
    section = base.sections[0]
    description = "\n".join(f"Paragraph {n}: " + "scope " * 100 for n in range(1, 26)) + "\nTHE END"
    lines = (replace(section.lines[0], description=description), *section.lines[1:])

    pages = pdf_pages_text(quote_pdf_render(replace(base, sections=(replace(section, lines=lines),))))

    # Unbreakable, the line would move whole to page 2 and spill over its bottom edge.
    assert "Paragraph 1:" in pages[0]
    assert len(pages) >= 3
    assert "THE END" in "".join(pages[1:])


def test_rendering_is_deterministic_so_a_revisions_hash_can_be_checked() -> None:
    document = document_sample(lines=3)

    first, second = quote_pdf_render(document), quote_pdf_render(document)

    assert first == second
    assert quote_pdf_sha256(first) == quote_pdf_sha256(second)
    assert quote_pdf_sha256(first) != quote_pdf_sha256(quote_pdf_render(replace(document, revision=3)))


def _png(width: int = 2, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x25\x63\xeb" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_logo_replaces_the_workspace_name_in_the_header() -> None:
    without = quote_pdf_render(document_sample(lines=1))
    with_logo = quote_pdf_render(document_sample(lines=1, logo=Logo(data=_png(), mime="image/png")))

    assert b"/Subtype/Image" not in without
    assert b"/Subtype/Image" in with_logo
    # The name still prints in the footer, but no longer as the header's title.
    assert pdf_pages_text(without)[0].count("Northwind Support") == 2
    assert pdf_pages_text(with_logo)[0].count("Northwind Support") == 1


def test_unticked_optional_line_is_printed_as_not_included() -> None:
    document = document_sample(lines=14)  # the 14th line is optional and unticked
    assert any(line.optional and not line.selected for line in document.lines)

    text = squash("".join(pdf_pages_text(quote_pdf_render(document))))

    assert text.count(squash("Optional · not included")) == 1
    assert text.count(squash("Optional · included")) == 1


def test_logo_and_document_fields_are_checked_before_rendering() -> None:
    with pytest.raises(ValueError, match="logo type"):
        Logo(data=b"<html>", mime="text/html")
    with pytest.raises(ValueError, match="Brand colour"):
        replace(document_sample(lines=1), brand_colour='red") #read("/etc/passwd")')
    with pytest.raises(ValueError, match="public link"):
        replace(document_sample(lines=1), public_url="javascript:alert(1)")


def test_quote_reaches_the_template_only_as_json_data() -> None:
    inputs = quote_pdf_inputs(replace(document_sample(lines=1), notes=HOSTILE))

    assert set(inputs) == {"quote"}
    assert '"notes": "#import' in inputs["quote"]


@pytest.mark.parametrize(
    ("amount", "currency", "exact", "expected"),
    [
        ("1234.5", "EUR", False, "€1,234.50"),
        ("1234.5", "JPY", False, "¥1,235"),
        ("1234.5", "kwd", False, "1,234.500 KWD"),
        ("1000000", "CHF", False, "1,000,000.00 CHF"),
        ("-12", "USD", False, "−$12.00"),
        ("0.005", "USD", False, "$0.01"),
        ("0.0125", "USD", True, "$0.0125"),
        ("19.9000", "EUR", True, "€19.90"),
    ],
)
def test_money_is_rounded_half_up_to_the_currency_minor_unit(amount, currency, exact, expected) -> None:
    assert money_format(Decimal(amount), currency, exact=exact) == expected


def test_quantities_print_without_trailing_zeros_or_exponents() -> None:
    assert [number_format(Decimal(v)) for v in ("10.000", "1E+3", "2.50", "0")] == ["10", "1,000", "2.5", "0"]


def test_document_lines_are_in_section_order() -> None:
    document = document_sample(lines=25)

    assert isinstance(document, QuoteDocument)
    assert [len(s.lines) for s in document.sections] == [10, 10, 5]
    assert len(document.lines) == 25
    assert document.issue_date == date(2026, 12, 7)


def _snapshot_line(kind: str, description: str, net: str = "0", **fields: object) -> dict:
    line = {"kind": kind, "description": description, "quantity": "1.000", "unit": "unit", "unit_price": net}
    line |= {"discount": "0.00", "tax_rate": "20.00", "optional": False, "selected": True, "net": net}
    return line | fields


def test_a_revision_snapshot_becomes_a_document_with_its_sections() -> None:
    snapshot = {
        "number": "Q-00007",
        "title": "Rollout",
        "currency": "USD",
        "valid_until": "2027-01-31",
        "payment_terms": "Net 30",
        "notes": "",
        "terms": "",
        "lines": [
            _snapshot_line("item", "Kick-off call", "100.00"),
            _snapshot_line("section", "Licences"),
            _snapshot_line("item", "Seats", "300.00", quantity="3.000", unit_price="100.0000", unit="seat"),
            _snapshot_line("item", "Premium SLA", "50.00", optional=True, selected=False),
        ],
        "totals": {
            "currency": "USD",
            "subtotal": "400.00",
            "taxes": [{"rate": "20", "base": "400.00", "amount": "80.00"}],
            "tax_total": "80.00",
            "total": "480.00",
        },
    }

    document = document_from_snapshot(
        snapshot, workspace_name="Acme", revision=1, issue_date=date(2027, 1, 1), customer=Party(name="Initech")
    )

    assert [(s.title, [line.description for line in s.lines]) for s in document.sections] == [
        ("", ["Kick-off call"]),
        ("Licences", ["Seats", "Premium SLA"]),
    ]
    assert document.lines[1].quantity == Decimal(3) and document.lines[2].counted is False
    assert document.valid_until == date(2027, 1, 31)
    text = squash(pdf_pages_text(quote_pdf_render(document))[0])
    assert squash("Total USD $480.00") in text and squash("Tax 20% on $400.00 $80.00") in text
    assert squash("3 seat $100.00 20% $300.00") in text
