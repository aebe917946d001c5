"""Template helpers of the ticket AI panel and composer (`{% load ticket_ai_tags %}`)."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import ticket_ai as selectors
from ..services.ticket_ai import REPLY_STYLES

register = template.Library()


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
