"""A widget's data as a file: CSV (safe against spreadsheet formulas, core.csv_io) or XLSX (XlsxWriter, with a
title row naming the period and number formats per unit). Both carry what the widget shows, as `WidgetData.table()`
flattens it, with shares as percentages."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import xlsxwriter

from core.csv_io import csv_lines

from .contracts import WidgetData
from .dashboards import Panel

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROUNDING = {"pct": 1, "minutes": 1, "days": 1, "rating": 2, "usd": 4, "money": 2}
SUFFIX = {"pct": " (%)", "minutes": " (minutes)", "days": " (days)", "usd": " (USD)"}
XLSX_FORMATS = {
    "count": "#,##0",
    "pct": "0.0",
    "minutes": "#,##0.0",
    "days": "#,##0.0",
    "rating": "0.00",
    "usd": "$#,##0.0000",
    "money": "#,##0.00",
}


def column_units(data: WidgetData) -> tuple[str, ...]:
    """The unit of each column of `data.table()` ("" for labels)."""
    columns, _ = data.table()
    if data.kind == "number":
        return "", data.unit, data.unit, "pct"
    if data.kind == "table":
        return data.column_units or ("",) * len(columns)
    return ("", *(data.unit,) * (len(columns) - 1))


def _value(value, unit: str):
    if value is None or unit == "":
        return "" if value is None else value
    if unit == "pct":
        value = value * 100
    return round(value, ROUNDING[unit]) if unit in ROUNDING else round(value)


def export_rows(data: WidgetData) -> tuple[list[str], list[list]]:
    """Header (with units) and rows, values rounded as people read them."""
    columns, rows = data.table()
    units = column_units(data)
    header = [f"{name}{SUFFIX.get(unit, '')}" for name, unit in zip(columns, units, strict=True)]
    return header, [[_value(value, unit) for value, unit in zip(row, units, strict=True)] for row in rows]


def filename(panel: Panel, extension: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", panel.title.lower()).strip("-") or panel.slot.key
    return f"{slug}-{panel.filters.start.isoformat()}-{panel.filters.end.isoformat()}.{extension}"


def widget_csv(panel: Panel) -> Iterable[str]:
    header, rows = export_rows(panel.data)
    return csv_lines([header, *rows])


def widget_xlsx(panel: Panel, *, description: str = "") -> bytes:
    header, rows = export_rows(panel.data)
    units = column_units(panel.data)
    output = io.BytesIO()
    with xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False}) as book:
        sheet = book.add_worksheet(panel.title[:31].replace("/", "-") or "Widget")
        bold = book.add_format({"bold": True})
        formats = {unit: book.add_format({"num_format": code}) for unit, code in XLSX_FORMATS.items()}
        sheet.write(0, 0, panel.title, book.add_format({"bold": True, "font_size": 13}))
        period = f"{panel.filters.start:%d %b %Y} – {panel.filters.end:%d %b %Y}"
        sheet.write(1, 0, f"{period}{'. ' + description if description else ''}")
        sheet.write_row(3, 0, header, bold)
        for number, row in enumerate(rows, start=4):
            for column, (value, unit) in enumerate(zip(row, units, strict=True)):
                sheet.write(number, column, value, formats.get(unit))
        for column, name in enumerate(header):
            width = max([len(str(name)), *(len(str(row[column])) for row in rows)])
            sheet.set_column(column, column, min(max(width + 2, 10), 60))
        sheet.freeze_panes(4, 1)
    return output.getvalue()
