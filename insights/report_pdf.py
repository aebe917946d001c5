"""Dashboards and the trend report as documents: a PDF, and a PNG per chart for the HTML email, both rendered
in-process by the Typst compiler of the `typst` wheel (as quotes/pdf.py does), charts drawn by the templates in
insights/report_template/ from the data (no plotting library).

The templates are fixed code; a report reaches them only as JSON in `sys.inputs`, every figure already formatted
here, so a title someone typed (`#panic()`, `]`, `$`) prints as typed and is never evaluated as Typst.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .contracts import Figure, WidgetData
from .dashboards import Panel
from .exports import column_units
from .templatetags.insights_format import metric

TEMPLATE_DIR = Path(__file__).resolve().parent / "report_template"
DASHBOARD_TEMPLATE = TEMPLATE_DIR / "dashboard.typ"
TREND_TEMPLATE = TEMPLATE_DIR / "trend_report.typ"
CHART_KINDS = ("trend", "bar", "funnel")
TABLE_ROWS = 25  # a longer table is cut, with "and N more" (the export has all of it)
# A chart image is drawn 11 cm wide and shown about 620 px wide: its 7–8 pt labels read at 13–15 px. At 216 ppi it
# is ~940 px wide, sharp on high-density screens, about 20–40 kB.
CHART_PPI = 216

_compilers: dict[Path, Any] = {}
# One compiler per template and process keeps the fonts parsed between renders; a compiler is not meant to be shared
# by threads compiling at once.
_lock = threading.Lock()


class ReportRenderError(RuntimeError):
    """A template failed to compile: a bug in the template, never something a user typed."""


# --- figures as people read them ------------------------------------------------------------------------------------


def value_text(value: float | None, unit: str) -> str:
    """As the dashboard pages show it (insights_format.metric), with a currency code after its amount."""
    if value is not None and len(unit) == 3 and unit.isupper():
        return f"{value:,.2f} {unit}"
    return metric(value, unit)


def change_text(figure: Figure) -> str:
    change = figure.change
    if change is None:
        return ""
    return f"{'+' if change > 0 else '−' if change < 0 else '±'}{abs(change) * 100:.0f}%"


def change_tone(figure: Figure, better: str) -> str:
    """Good, bad or neither ("") (no change, no direction, or nothing to compare)."""
    change = figure.change
    if not change or not better:
        return ""
    return "good" if (change > 0) == (better == "up") else "bad"


def cell_text(value: Any, unit: str) -> str:
    if unit == "" or isinstance(value, str):
        return "" if value is None else str(value)
    return value_text(value, unit)


# --- the payload ----------------------------------------------------------------------------------------------------


def widget_payload(title: str, data: WidgetData, *, url: str = "") -> dict[str, Any]:
    # `image`: the chart the HTML email shows as a PNG (a chart without data gets a sentence instead).
    image = data.kind in CHART_KINDS and bool(data.labels)
    payload: dict[str, Any] = {"kind": data.kind, "title": title, "note": data.note, "url": url, "image": image}
    if data.kind == "number":
        figure = data.figure or Figure(None, None)
        payload["number"] = {
            "value": value_text(figure.value, data.unit),
            "previous": value_text(figure.previous, data.unit),
            "change": change_text(figure),
            "tone": change_tone(figure, data.better),
        }
    elif data.kind in CHART_KINDS:
        payload["chart"] = chart_payload(data)
    else:
        payload["table"] = table_payload(data)
    return payload


def chart_payload(data: WidgetData) -> dict[str, Any]:
    values = [value for series in data.series for value in series.values if value is not None]
    top = max(values, default=0) or 1
    return {
        "labels": [_short_label(label, data.kind) for label in data.labels],
        "series": [
            {
                "label": series.label,
                "values": [float(value or 0) for value in series.values],
                "texts": [value_text(value, data.unit) for value in series.values],
            }
            for series in data.series
        ],
        "max": float(top),
        "max_text": value_text(top, data.unit),
    }


def _short_label(label: str, kind: str) -> str:
    """Days on a trend's axis read "7 Dec" rather than "2026-12-07"."""
    if kind == "trend":
        try:
            return f"{date.fromisoformat(label):%-d %b}"
        except ValueError:
            return label
    return label


def table_payload(data: WidgetData) -> dict[str, Any]:
    columns, rows = data.table()
    units = column_units(data)
    return {
        "columns": list(columns),
        "numeric": [unit != "" for unit in units],
        "rows": [[cell_text(value, unit) for value, unit in zip(row, units, strict=True)] for row in rows[:TABLE_ROWS]],
        "more": max(0, len(rows) - TABLE_ROWS),
    }


@dataclass(frozen=True)
class ReportHeading:
    title: str  # the dashboard's name
    workspace: str
    start: date
    end: date
    url: str = ""  # the dashboard page for this period

    @property
    def period(self) -> str:
        if self.start == self.end:
            return f"{self.start:%-d %b %Y}"
        return f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y}"


def dashboard_payload(heading: ReportHeading, panels: list[Panel], links: dict[int, str] | None = None) -> dict:
    """The dashboard document's data: its heading and one entry per widget, in the layout's order."""
    links = links or {}
    return {
        "title": heading.title,
        "workspace": heading.workspace,
        "period": heading.period,
        "url": heading.url,
        "widgets": [widget_payload(panel.title, panel.data, url=links.get(panel.index, "")) for panel in panels],
    }


# --- rendering ------------------------------------------------------------------------------------------------------


def dashboard_pdf(payload: dict, *, timestamp: datetime | None = None) -> bytes:
    return _compile(DASHBOARD_TEMPLATE, {"report": _json(payload)}, "pdf", timestamp=timestamp)


def dashboard_chart_pngs(payload: dict) -> list[bytes]:
    """One PNG per widget whose `image` is set (a chart with data), in the payload's order; [] when there is none."""
    if not any(widget["image"] for widget in payload["widgets"]):
        return []
    pages = _compile(DASHBOARD_TEMPLATE, {"report": _json(payload), "mode": "charts"}, "png", ppi=CHART_PPI)
    return pages if isinstance(pages, list) else [pages]


def trend_report_pdf(payload: dict, *, timestamp: datetime | None = None) -> bytes:
    return _compile(TREND_TEMPLATE, {"report": _json(payload)}, "pdf", timestamp=timestamp)


def template_inputs(payload: dict) -> dict[str, str]:
    """What a template receives (tests query the compiled document with it)."""
    return {"report": _json(payload)}


def _json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _compile(template: Path, inputs: dict[str, str], fmt: str, *, ppi: float | None = None, timestamp=None):
    import typst  # imported on first use: the compiler is a large library that only reports need

    options: dict[str, Any] = {"format": fmt, "sys_inputs": inputs}
    if ppi:
        options["ppi"] = ppi
    if fmt == "pdf":
        options["timestamp"] = (timestamp or datetime.now(UTC)).replace(microsecond=0)
    with _lock:
        try:
            return _compiler(typst, template).compile(**options)
        except typst.TypstError as exc:
            raise ReportRenderError(f"{template.name} failed: {exc.message}") from exc


def _compiler(typst: Any, template: Path) -> Any:
    if template not in _compilers:
        _compilers[template] = typst.Compiler(input=str(template), root=str(TEMPLATE_DIR), ignore_system_fonts=True)
    return _compilers[template]
