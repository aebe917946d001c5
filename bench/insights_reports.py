"""Rendering a scheduled report of an 8-widget dashboard: the PDF, and the PNG of each chart the HTML email shows
inline (insights/report_pdf.py), p50/p95 and the first render of a process.

The dashboard: three numbers, a 90-day trend with two lines, two bar charts of 12 bars × 2 series, a 5-step funnel
and a 25-row table. Each timed render changes the title and a value, so Typst's memoization cannot hand back the
previous result. No database needed, but Django's settings are (the embedded servers' URLs):
    .venv/bin/python bench/insights_reports.py [--renders 100]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from insights import report_pdf  # noqa: E402
from insights.contracts import Figure, MetricFilters, Series, WidgetData  # noqa: E402
from insights.dashboards import Panel, Slot  # noqa: E402

FILTERS = MetricFilters(date(2026, 9, 1), date(2026, 11, 29))


def _widgets(index: int) -> list[WidgetData]:
    days = tuple((FILTERS.start + timedelta(days=n)).isoformat() for n in range(FILTERS.days))
    names = tuple(f"Team {n}" for n in range(12))
    return [
        WidgetData("tickets_created", f"Tickets created #{index}", "number", figure=Figure(1200 + index, 1100)),
        WidgetData("sla_adherence", "SLA adherence", "number", unit="pct", figure=Figure(0.93, 0.95)),
        WidgetData("ai_cost", "AI cost", "number", unit="usd", better="down", figure=Figure(31.2, 28.4)),
        WidgetData(
            "tickets_trend",
            "Tickets per day",
            "trend",
            labels=days,
            series=(
                Series("Created", tuple(float(40 + (n * 7 + index) % 23) for n in range(len(days)))),
                Series("Solved", tuple(float(38 + (n * 5) % 19) for n in range(len(days)))),
            ),
        ),
        *(
            WidgetData(
                key,
                title,
                "bar",
                labels=names,
                series=(
                    Series("This period", tuple(float(100 - n * 7 + index % 3) for n in range(12))),
                    Series("Previous period", tuple(float(90 - n * 6) for n in range(12))),
                ),
            )
            for key, title in (("tickets_by_team", "Tickets by team"), ("sla_breaches", "SLA breaches by team"))
        ),
        WidgetData(
            "sales_funnel",
            "Sales funnel",
            "funnel",
            labels=("Leads created", "Quotes created", "Quotes sent", "Quotes accepted", "Leads won"),
            series=(
                Series("This period", (400.0 + index, 180.0, 150.0, 60.0, 55.0)),
                Series("Previous period", (380.0, 170.0, 140.0, 58.0, 50.0)),
            ),
        ),
        WidgetData(
            "agent_performance",
            "Agent performance",
            "table",
            columns=("Agent", "Solved", "First response p50", "CSAT"),
            column_units=("", "count", "minutes", "rating"),
            rows=tuple((f"Agent {n}", 120 - n, 35.0 + n, 4.4) for n in range(25)),
        ),
    ]


def _payload(index: int) -> dict:
    panels = [Panel(n, Slot(data.key), FILTERS, data) for n, data in enumerate(_widgets(index))]
    heading = report_pdf.ReportHeading(f"Support lead {index}", "Bench", FILTERS.start, FILTERS.end, "https://x.test/")
    return report_pdf.dashboard_payload(heading, panels)


def _timed(function, runs: int) -> list[float]:
    timings = []
    for index in range(1, runs + 1):
        payload = _payload(index)
        started = time.perf_counter()
        function(payload)
        timings.append(time.perf_counter() - started)
    return sorted(timings)


def _line(name: str, timings: list[float]) -> str:
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    median, top = statistics.median(timings) * 1000, timings[-1] * 1000
    return f"{name}: p50 {median:.0f} ms, p95 {p95 * 1000:.0f} ms, max {top:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=100)
    args = parser.parse_args()

    payload = _payload(0)
    started = time.perf_counter()
    pdf = report_pdf.dashboard_pdf(payload)
    first_pdf = time.perf_counter() - started
    started = time.perf_counter()
    pngs = report_pdf.dashboard_chart_pngs(payload)
    first_png = time.perf_counter() - started

    pdf_timings = _timed(report_pdf.dashboard_pdf, args.renders)
    png_timings = _timed(report_pdf.dashboard_chart_pngs, args.renders)
    both = _timed(lambda p: (report_pdf.dashboard_pdf(p), report_pdf.dashboard_chart_pngs(p)), args.renders)

    print(f"load average: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print(f"8 widgets: PDF {len(pdf):,} bytes; {len(pngs)} chart PNGs, {sum(map(len, pngs)):,} bytes in all")
    print(f"first render in this process (typst import, fonts parsed): PDF {first_pdf * 1000:.0f} ms, PNGs "
          f"{first_png * 1000:.0f} ms")  # fmt: skip
    print(_line(f"PDF, {args.renders} renders", pdf_timings))
    print(_line(f"chart PNGs, {args.renders} renders", png_timings))
    print(_line(f"PDF + PNGs (a 'both' report), {args.renders} renders", both))
    print(f"max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
