"""Reading uploaded CSV files people made in Excel, Google Sheets or another CRM, and writing safe CSV exports.

File-level problems (too big, not text, no usable header) raise ValidationError with a message meant for the
person who made the file; row-level problems are the importer's business (customers/imports.py, leads/imports.py),
reported with the RowError / ImportPlan / CsvImportResult shapes below so every import page reads the same.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError

# Spreadsheets run cells starting with these as formulas; exported cells get a leading apostrophe.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_HEADER_SEPARATORS = re.compile(r"[\s\-.]+")


@dataclass(frozen=True)
class CsvTable:
    header: list[str]
    # (row number as a spreadsheet shows it, header = 1; the cells)
    rows: list[tuple[int, list[str]]]


@dataclass(frozen=True)
class Columns:
    """What an importer understands: canonical names, aliases people use, and export-only columns to skip."""

    known: tuple[str, ...]
    required: tuple[str, ...]
    aliases: dict[str, str]
    ignored: tuple[str, ...] = ()


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def too_big_message(size: int | None, limit: int) -> str:
    actual = f"The file is {human_size(size)}; " if size else "The file is too big; "
    return actual + f"the limit is {human_size(limit)}. Split it into smaller files and import them one at a time."


def read_csv(file: IO[bytes], *, max_bytes: int) -> CsvTable:
    """Size check, decoding (UTF-8 with or without BOM, else Windows-1252), delimiter detection, parsing."""
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(too_big_message(size, max_bytes), code="too_big")
    file.seek(0)
    content = file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ValidationError(too_big_message(size, max_bytes), code="too_big")
    text = _decode(content)
    if not text.strip():
        raise ValidationError("The file is empty. Export your list as CSV with a header row.", code="empty")
    records = _parse(text)
    header, *rows = records
    numbered = [(number, cells) for number, cells in enumerate(rows, start=2) if any(cell.strip() for cell in cells)]
    return CsvTable(header=header, rows=numbered)


def _decode(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise ValidationError(
            "This is not a CSV text file (it looks like a spreadsheet or another binary file). "
            "In your spreadsheet, use File → Save as / Download → CSV.",
            code="binary",
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows still saves "CSV" as Windows-1252; it decodes nearly any byte sequence.
        try:
            return content.decode("cp1252")
        except UnicodeDecodeError:
            raise ValidationError(
                "The file's text encoding is not supported. Save it as “CSV UTF-8”.", code="encoding"
            ) from None


def _parse(text: str) -> list[list[str]]:
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        dialect: Any = csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, quotechar='"', strict=False)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as error:
        raise ValidationError(
            f"Row {len(records) + 1} could not be read ({error}). Check its quotes.", code="unreadable"
        ) from None
    return records


def normalize_header_name(name: str) -> str:
    """ "Owner e-mail", "owner-email", " OWNER_EMAIL " → "owner_email"."""
    return _HEADER_SEPARATORS.sub("_", name.strip().lower()).replace("e_mail", "email").strip("_")


def map_header(header: list[str], columns: Columns) -> dict[str, int]:
    """Canonical column name → its position. Raises ValidationError naming what is missing or unknown."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for position, raw in enumerate(header):
        name = normalize_header_name(raw)
        name = columns.aliases.get(name, name)
        if not name or name in columns.ignored:
            continue
        if name not in columns.known:
            unknown.append(raw.strip())
        elif name in positions:
            duplicated.append(raw.strip())
        else:
            positions[name] = position
    expected = ", ".join(columns.known)
    problems: list[str] = []
    missing = [name for name in columns.required if name not in positions]
    if missing:
        problems.append(f"The header row has no {_quoted(missing)} column.")
    if unknown:
        problems.append(f"Unknown column{'s' if len(unknown) > 1 else ''} {_quoted(unknown)}.")
    if duplicated:
        problems.append(f"Column {_quoted(duplicated)} appears twice.")
    if problems:
        found = ", ".join(cell.strip() for cell in header if cell.strip()) or "nothing"
        raise ValidationError(
            " ".join(problems) + f" The first row must name the columns; expected {expected}. Found: {found}.",
            code="bad_header",
        )
    return positions


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def cell(cells: list[str], positions: dict[str, int], name: str) -> str:
    position = positions.get(name)
    if position is None or position >= len(cells):
        return ""
    return unescape_cell(cells[position].strip())


def unescape_cell(value: str) -> str:
    """Undo the export's formula guard, so an exported file imports back unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_PREFIXES:
        return value[1:]
    return value


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text line by line, for a streaming response. Starts with a BOM so Excel reads it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


# --- Row-by-row import reports ------------------------------------------------------------------


class ImportMode:
    ALL_OR_NOTHING = "all"
    VALID_ONLY = "valid_only"
    CHOICES = (
        (ALL_OR_NOTHING, "If any row has a problem, import nothing and show me the problems"),
        (VALID_ONLY, "Import the valid rows and skip the rows with problems"),
    )


@dataclass(frozen=True)
class RowError:
    row: int
    label: str
    messages: tuple[str, ...]

    def __str__(self) -> str:
        return f"Row {self.row}: " + " ".join(self.messages)


@dataclass
class ImportPlan:
    total_rows: int
    valid: list[Any] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class CsvImportResult:
    mode: str
    total_rows: int
    created: int
    errors: list[RowError] = field(default_factory=list)

    @property
    def valid_rows(self) -> int:
        return self.total_rows - len(self.errors)

    @property
    def blocked(self) -> bool:
        """Nothing was imported because some rows had problems and the user wanted all or nothing."""
        return self.created == 0 and bool(self.errors) and self.mode == ImportMode.ALL_OR_NOTHING


def check_cell(messages: list[str], function: Callable[[], Any]) -> Any:
    """Runs a validator; its message joins the row's list instead of stopping at the first problem."""
    try:
        return function()
    except ValidationError as error:
        messages.extend(error.messages)
        return None


def too_long(messages: list[str], label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        messages.append(f"{label} is {len(value)} characters long; the limit is {limit}.")


def extra_cells(cells: list[str], header: list[str]) -> list[str]:
    extra = [value for value in cells[len(header) :] if value.strip()]
    if not extra:
        return []
    return [
        f"It has {len(cells)} values but the header names {len(header)} columns; "
        "a value with a comma in it probably needs quotes."
    ]
