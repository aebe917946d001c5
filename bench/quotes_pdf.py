"""Rendering a 50-line quote to PDF: p50/p95 (target p95 < 1 s), the first render of a process, and memory.

Each timed render gets a different quote number and line text, so Typst's memoization cannot hand back the
previous PDF: every page is laid out again, as when a user sends a revision. No database or server needed:
    .venv/bin/python bench/quotes_pdf.py [--renders 200] [--lines 50]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quotes.documents import document_sample
from quotes.pdf import quote_pdf_render


def _varied(base, index: int):
    first = base.sections[0]
    line = replace(first.lines[0], description=f"{first.lines[0].description} (option {index})")
    sections = (replace(first, lines=(line, *first.lines[1:])), *base.sections[1:])
    return replace(base, quote_number=f"Q-{index:05d}", sections=sections)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--lines", type=int, default=50)
    args = parser.parse_args()
    base = document_sample(lines=args.lines)

    started = time.perf_counter()
    pdf = quote_pdf_render(_varied(base, 0))
    first = time.perf_counter() - started
    rss_after_first = _rss_mb()

    timings = []
    for index in range(1, args.renders + 1):
        started = time.perf_counter()
        quote_pdf_render(_varied(base, index))
        timings.append(time.perf_counter() - started)
    timings.sort()

    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"{args.lines}-line quote, {pdf.count(b'/Type/Page') - pdf.count(b'/Type/Pages')} pages, {len(pdf):,} bytes")
    print(f"first render in this process (typst import, fonts parsed): {first * 1000:.0f} ms")
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{args.renders} renders: p50 {statistics.median(timings) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {timings[-1] * 1000:.0f} ms (target p95 < 1000 ms)"
    )
    print(f"max RSS: {rss_after_first:.0f} MB after the first render, {_rss_mb():.0f} MB after all")


if __name__ == "__main__":
    main()
