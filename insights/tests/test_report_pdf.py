"""Dashboards and the trend report as Typst documents: a PDF with every widget, a PNG per chart, and text someone
typed printed as typed, never run as Typst."""

from __future__ import annotations

import json
from datetime import date

import pytest

from insights import report_pdf
from insights.contracts import Figure, MetricFilters, Series, WidgetData
from insights.dashboards import Panel, Slot

FILTERS = MetricFilters(date(2026, 11, 1), date(2026, 11, 30))
HOSTILE = '#panic("injected") ] $x$ #import "/etc/passwd"'


def _panels() -> list[Panel]:
    days = tuple(f"2026-11-{day:02d}" for day in range(1, 31))
    widgets = [
        WidgetData("a", HOSTILE, "number", figure=Figure(120, 100)),
        WidgetData("b", "SLA adherence", "number", unit="pct", figure=Figure(0.91, 0.95)),
        WidgetData("c", "AI cost", "number", unit="usd", better="down", figure=Figure(3.2, 4.1)),
        WidgetData("d", "Tickets trend", "trend", labels=days, series=(Series("New", tuple(map(float, range(30)))),)),
        WidgetData("e", "By channel ]", "bar", labels=("email", "chat"), series=(Series("Now", (10.0, 5.0)),)),
        WidgetData("f", "Sales funnel", "funnel", labels=("Leads", "Won"), series=(Series("Now", (100.0, 10.0)),)),
        WidgetData(
            "g", "Agents", "table", columns=("Agent", "Solved"), column_units=("", "count"),
            rows=tuple((f"#agent {i} ]", i) for i in range(30)),
        ),
        WidgetData("h", "Resolution", "number", unit="minutes", better="down", figure=Figure(300, None)),
    ]  # fmt: skip
    return [Panel(index, Slot(data.key), FILTERS, data) for index, data in enumerate(widgets)]


def _payload() -> dict:
    heading = report_pdf.ReportHeading("Board ] #report", "Alpha", FILTERS.start, FILTERS.end, "https://a.test/d/")
    return report_pdf.dashboard_payload(heading, _panels())


def _query(template, payload: dict, selector: str) -> list:
    import typst

    compiler = typst.Compiler(
        input=str(template),
        root=str(report_pdf.TEMPLATE_DIR),
        ignore_system_fonts=True,
        sys_inputs=report_pdf.template_inputs(payload),
    )
    return json.loads(compiler.query(selector, field="value"))


def test_the_pdf_has_every_widget_title_as_typed_even_one_written_as_typst():
    payload = _payload()
    pdf = report_pdf.dashboard_pdf(payload)
    assert pdf.startswith(b"%PDF")
    titles = [panel.title for panel in _panels()]
    assert [widget["title"] for widget in payload["widgets"]] == titles
    # The compiled document's own record of the sections it printed: the hostile title is text, not code (had it
    # run, the compile would have failed on panic()).
    assert _query(report_pdf.DASHBOARD_TEMPLATE, payload, "<widget-title>") == titles


def test_the_template_reads_the_report_only_as_json_data():
    source = report_pdf.DASHBOARD_TEMPLATE.read_text()
    assert "json(bytes(sys.inputs.report))" in source
    assert "eval(" not in source and "eval(" not in report_pdf.TREND_TEMPLATE.read_text()


def test_each_chart_is_a_png_of_its_own_in_the_widgets_order():
    images = report_pdf.dashboard_chart_pngs(_payload())
    assert len(images) == 3  # trend, bar and funnel
    assert all(image.startswith(b"\x89PNG") for image in images)
    assert len(set(images)) == 3


def test_a_report_without_charts_renders_no_images():
    payload = _payload()
    payload["widgets"] = [widget for widget in payload["widgets"] if widget["kind"] == "number"]
    assert report_pdf.dashboard_chart_pngs(payload) == []


def test_a_chart_without_data_gets_no_image_but_keeps_its_place_in_the_pdf():
    empty = WidgetData("x", "Tickets by channel", "bar")
    assert report_pdf.widget_payload("Tickets by channel", empty)["image"] is False
    payload = _payload()
    payload["widgets"].insert(0, report_pdf.widget_payload("Tickets by channel", empty))
    assert len(report_pdf.dashboard_chart_pngs(payload)) == 3
    assert report_pdf.dashboard_pdf(payload).startswith(b"%PDF")


def test_long_tables_are_cut_with_a_count_of_the_rest():
    table = report_pdf.widget_payload("Agents", _panels()[6].data)["table"]
    assert len(table["rows"]) == report_pdf.TABLE_ROWS and table["more"] == 5
    assert table["rows"][3] == ["#agent 3 ]", "3"]


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, "count", "—"),
        (1234.0, "count", "1,234"),
        (0.9134, "pct", "91.3 %"),
        (45.0, "minutes", "45 min"),
        (300.0, "minutes", "5 h 00 min"),
        (2.25, "days", "2.2 days"),
        (4.256, "rating", "4.26 / 5"),
        (3.2, "usd", "$3.20"),
        (1500.0, "EUR", "1,500.00 EUR"),
    ],
)
def test_figures_read_as_people_read_them(value, unit, text):
    assert report_pdf.value_text(value, unit) == text


def test_a_change_is_good_or_bad_news_by_the_widgets_direction():
    assert report_pdf.change_text(Figure(120, 100)) == "+20%"
    assert report_pdf.change_tone(Figure(120, 100), "up") == "good"
    assert report_pdf.change_tone(Figure(120, 100), "down") == "bad"
    assert report_pdf.change_text(Figure(5, None)) == "" and report_pdf.change_tone(Figure(5, 0), "up") == ""
