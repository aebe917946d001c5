"""How insights' figures read on a page: values by unit, the change against the previous period (its arrow, its
words, and whether it is good news), and a widget's chart spec for static/js/charts.js."""

from __future__ import annotations

from datetime import date

from django import template

from insights.contracts import Figure, WidgetData

register = template.Library()

PALETTE = ("#3b5bdb", "#2f9e44", "#e8590c", "#9c36b5", "#0c8599", "#c2255c")


def _minutes(value: float) -> str:
    if value < 60:
        return f"{value:.0f} min"
    if value < 48 * 60:
        hours, minutes = divmod(round(value), 60)
        return f"{hours} h {minutes:02d} min"
    return f"{value / 1440:.1f} days"


@register.filter
def metric(value, unit: str = "count") -> str:
    """A figure as people read it: 1,234 · 93.4 % · 2 h 05 min · 4.5 days · 4.32 / 5 · $12.35 · 1,200.00."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    if unit == "pct":
        return f"{value * 100:.1f} %"
    if unit == "minutes":
        return _minutes(value)
    if unit == "days":
        return f"{value:.1f} days"
    if unit == "rating":
        return f"{value:.2f} / 5"
    if unit == "usd":
        return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.4f}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


@register.inclusion_tag("insights/_change.html")
def change(figure: Figure | None, better: str = "up", unit: str = "count", days: int = 0) -> dict:
    """The change against the previous period: arrow, percentage, and whether it is good news (colour is never the
    only cue: the words say rose or fell and the previous value)."""
    if figure is None or figure.value is None or figure.previous is None:
        return {"known": False}
    delta = figure.value - figure.previous
    direction = "up" if delta > 0 else "down" if delta < 0 else "flat"
    tone = "neutral" if not better or direction == "flat" else "good" if direction == better else "bad"
    relative = figure.change
    return {
        "known": True,
        "direction": direction,
        "tone": tone,
        "percent": f"{abs(relative) * 100:.0f} %" if relative is not None else "",
        "previous": metric(figure.previous, unit),
        "days": days,
    }


def _day_label(iso: str) -> str:
    """ "2026-11-08" → "8 Nov": a month of axis labels stays readable."""
    try:
        return date.fromisoformat(iso).strftime("%-d %b")
    except ValueError:
        return iso


@register.filter
def chart_spec(data: WidgetData) -> dict:
    """The chart of a trend or bar widget (static/js/charts.js); clicking a bar follows its drill-down link."""
    kind = "line" if data.kind == "trend" else "bar"
    labels = [_day_label(label) for label in data.labels] if data.kind == "trend" else list(data.labels)
    return {
        "chart": {
            "type": kind,
            "unit": data.unit,
            "labels": labels,
            "links": [data.links.get(label, "") for label in data.labels],
            "datasets": [
                {"label": series.label, "data": list(series.values), "color": PALETTE[index % len(PALETTE)]}
                for index, series in enumerate(data.series)
            ],
        }
    }


@register.filter
def funnel_steps(data: WidgetData) -> list[dict]:
    """Each funnel step with its bar width (share of the first step) and the conversion from the step before."""
    values = list(data.series[0].values) if data.series else []
    previous = list(data.series[1].values) if len(data.series) > 1 else [None] * len(values)
    top = max((value or 0 for value in values), default=0) or 1
    steps = []
    for index, (label, value) in enumerate(zip(data.labels, values, strict=True)):
        before = values[index - 1] if index else None
        steps.append(
            {
                "label": label,
                "value": value,
                "previous": previous[index],
                "width": round(100 * (value or 0) / top),
                # Steps are counted on their own days, so a later step can outnumber an earlier one: no rate then.
                "conversion": value / before if before and value is not None and value <= before else None,
                "link": data.links.get(label, ""),
            }
        )
    return steps


@register.filter
def cell_link(data: WidgetData, label) -> str:
    return data.links.get(str(label), "") if data.links else ""


@register.filter
def zip_units(row, units) -> list:
    return list(zip(row, units or ("",) * len(row), strict=False))


@register.filter
def at(values, index: int):
    """The value at `index` of a sequence (a series' value for one row of its figures table)."""
    try:
        return values[index]
    except (IndexError, TypeError):
        return None


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None
