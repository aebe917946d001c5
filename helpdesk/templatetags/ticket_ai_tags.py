"""Template helpers of the ticket AI panel and composer (`{% load ticket_ai_tags %}`)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..selectors import ticket_ai as selectors
from ..services.ticket_ai import REPLY_STYLES

register = template.Library()
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")
MAX_DIFF_CELLS = 1_000_000  # about 500 words a side: ~0.15 s even for unrelated texts; longer: by line


@register.simple_tag
def ai_panel(ticket, user) -> selectors.AIPanel:
    """`{% ai_panel ticket user as panel %}`: the panel's view of the ticket (no query)."""
    return selectors.ai_panel(ticket=ticket, user=user)


@register.simple_tag
def reply_styles() -> dict[str, str]:
    """The tones the reply composer offers: those ai.facade.rewrite supports."""
    return REPLY_STYLES


@register.filter
def percent(value: Any) -> str:
    """0.62 → "62%"; nothing for a missing value."""
    try:
        return f"{float(value):.0%}"
    except (TypeError, ValueError):
        return ""


@register.filter
def risk_colour(level: str) -> str:
    """Bootstrap colour of an SLA risk level."""
    return {"low": "success", "medium": "warning", "high": "danger", "breached": "danger"}.get(level, "secondary")


@register.filter
def word_diff(before: str, after: str) -> SafeString:
    """`{{ before|word_diff:after }}`: `after` with words removed from `before` struck through (<del>) and new
    words marked (<ins>); escaped."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    if len(a) * len(b) > MAX_DIFF_CELLS:  # difflib is quadratic: compare whole lines of very long texts
        a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    parts: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        old, new = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if tag == "equal":
            parts.append(new)
            continue
        if old.strip():
            parts.append(f'<del class="sb-diff-del">{old}</del>')
        if new.strip():
            parts.append(f'<ins class="sb-diff-ins">{new}</ins>')
        elif new:
            parts.append(new)
    return mark_safe("".join(parts))  # every piece of text above is escaped
