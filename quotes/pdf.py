"""Quote PDFs, rendered in-process by the Typst compiler the `typst` wheel ships (no browser, no system library).

The template (quotes/pdf_template/quote.typ) is fixed code; the quote reaches it only as JSON in `sys.inputs`,
so nothing a user typed is ever parsed as Typst markup. Fonts are Typst's bundled ones (Libertinus Serif, with
DejaVu Sans Mono and New Computer Modern as fallbacks), all embedded as subsets; system fonts are ignored so a
quote prints the same on every machine. The same document always gives the same bytes (the creation date is
the issue date), so a revision's sha256 can be checked by rendering it again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from quotes.documents import (
    DocumentLine,
    QuoteDocument,
    date_format,
    money_format,
    number_format,
    percent_format,
)

TEMPLATE_DIR = Path(__file__).resolve().parent / "pdf_template"
TEMPLATE = TEMPLATE_DIR / "quote.typ"
LONG_DESCRIPTION_CHARS = 1200
LONG_DESCRIPTION_LINES = 12

_compiler: Any = None
# One compiler per process keeps the fonts parsed between renders (about 10× faster than a fresh one); Typst's
# compiler object is not meant to be shared by threads compiling at once.
_compiler_lock = threading.Lock()


class QuotePdfError(RuntimeError):
    """The template failed to compile: a bug in the template, never something a user typed."""


def quote_pdf_render(document: QuoteDocument) -> bytes:
    """The quote as PDF bytes."""
    import typst  # imported on first use: the compiler is an 80 MB library that only PDF renders need

    inputs = quote_pdf_inputs(document)
    timestamp = datetime.combine(document.issue_date, time(), tzinfo=UTC)
    with _compiler_lock:
        try:
            return _get_compiler(typst).compile(format="pdf", sys_inputs=inputs, timestamp=timestamp)
        except typst.TypstError as exc:
            raise QuotePdfError(f"Quote template failed: {exc.message}") from exc


def quote_pdf_sha256(pdf: bytes) -> str:
    """The hash stored with a sent revision (hex, 64 characters)."""
    return hashlib.sha256(pdf).hexdigest()


def quote_pdf_inputs(document: QuoteDocument) -> dict[str, str]:
    """The template's `sys.inputs`: the quote as JSON text (every figure already formatted), and the logo's
    bytes as a JSON array of integers, the one binary form Typst can read back without a file."""
    inputs = {"quote": json.dumps(_payload(document), ensure_ascii=False)}
    if document.logo is not None:
        inputs["logo"] = json.dumps(list(document.logo.data), separators=(",", ":"))
    return inputs


def _get_compiler(typst: Any) -> Any:
    global _compiler
    if _compiler is None:
        _compiler = typst.Compiler(input=str(TEMPLATE), root=str(TEMPLATE_DIR), ignore_system_fonts=True)
    return _compiler


def _payload(document: QuoteDocument) -> dict[str, Any]:
    currency = document.currency
    return {
        "workspace_name": document.workspace_name,
        "brand_colour": document.brand_colour,
        "logo_format": document.logo.format if document.logo else None,
        "number": document.quote_number,
        "revision": str(document.revision),
        "title": document.title,
        "issue_date": date_format(document.issue_date),
        "valid_until": date_format(document.valid_until) if document.valid_until else None,
        "currency": currency,
        "customer": {
            "name": document.customer.name,
            "address_lines": list(document.customer.address_lines),
            "tax_id": document.customer.tax_id,
            "email": document.customer.email,
        },
        "contact": (
            {"name": document.contact.name, "email": document.contact.email, "phone": document.contact.phone}
            if document.contact
            else None
        ),
        "sections": [
            {"title": section.title, "lines": [_line(line, currency) for line in section.lines]}
            for section in document.sections
        ],
        "tax_lines": [
            {
                "rate": percent_format(tax.rate),
                "base": money_format(tax.base, currency),
                "amount": money_format(tax.amount, currency),
            }
            for tax in document.tax_lines
        ],
        "subtotal": money_format(document.subtotal, currency),
        "tax_total": money_format(document.tax_total, currency),
        "total": money_format(document.total, currency),
        "payment_terms": document.payment_terms,
        "notes": document.notes,
        "terms": document.terms,
        "public_url": document.public_url,
    }


def _line(line: DocumentLine, currency: str) -> dict[str, Any]:
    return {
        "description": line.description,
        "sku": line.sku,
        "quantity": number_format(line.quantity),
        "unit": line.unit,
        "unit_price": money_format(line.unit_price, currency, exact=True),
        "discount": percent_format(line.discount) if line.discount else "",
        "tax_rate": percent_format(line.tax_rate),
        "line_total": money_format(line.line_total, currency),
        "optional": line.optional,
        "selected": line.selected,
        # Past about a third of a page of text, a line may continue on the next page (quote.typ).
        "long": len(line.description) > LONG_DESCRIPTION_CHARS or line.description.count("\n") > LONG_DESCRIPTION_LINES,
    }
