"""Filters that present AI figures the same way everywhere: provider and feature names, latencies, costs, rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()

# Short names for badges and chart legends (the registry's labels describe the configuration options).
PROVIDER_NAMES = {
    "local": "Local model",
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google Gemini",
    "copilot": "Microsoft Copilot",
    "": "No provider",
}


@register.filter
def provider_name(name: str | None) -> str:
    name = name or ""
    return PROVIDER_NAMES.get(name, name.replace("_", " ").title())


# What each feature (a prompt or a facade operation, named by its key in code) does, in a person's words.
FEATURE_LABELS = {
    "reply_draft": "Reply drafts",
    "json_repair": "Fixing malformed AI answers",
    "classify": "Sorting into categories",
    "summarize": "Summaries",
    "rewrite": "Rewriting text",
    "sentiment": "Customer mood",
    "language": "Language detection",
    "moderate": "Content check",
    "embed": "Search and similar tickets",
    "generate": "Free text",
    "classify_trained": "Sorting with a trained model",
    "helpdesk.language": "Ticket language",
    "helpdesk.sentiment": "Ticket mood",
    "helpdesk.summary": "Ticket summary",
    "helpdesk.structure": "Ticket structure",
    "helpdesk.type": "Ticket type",
    "helpdesk.priority": "Ticket priority",
    "helpdesk.category": "Ticket category",
    "helpdesk.improve": "Improve a new ticket",
    "helpdesk.reply_tone": "Reply tone",
    "helpdesk.reply_draft": "Reply drafts",
    "leads_outreach": "Lead outreach drafts",
    # Outcome models (facade.outcome_predict records under the model's name unless told otherwise).
    "leads.conversion": "Lead conversion",
    "customers.churn": "Churn risk",
}


@register.filter
def feature_label(key: str | None) -> str:
    """ "reply_draft" → "Reply drafts"; a key without a label reads as words ("kb.search" → "Kb search")."""
    key = key or ""
    if key in FEATURE_LABELS:
        return FEATURE_LABELS[key]
    words = key.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


DURATION_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


@register.filter
def duration_words(seconds: Any) -> str:
    """86400 → "1 day", 5400 → "1 hour 30 minutes", 0 → "Never" (how long answers are reused)."""
    left = int(seconds or 0)
    if left <= 0:
        return "Never"
    parts = []
    for unit, size in DURATION_UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts[:2])


@register.filter
def milliseconds(value: Any) -> str:
    """820 → "820 ms"; None (no answered run) → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):,.0f} ms"


@register.filter
def usd(value: Any) -> str:
    """Dollars with the precision small AI bills need: $0.0042, $12.50."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value))
    if amount == 0:
        return "$0"
    if abs(amount) < 1:
        return f"${amount:,.4f}"
    return f"${amount:,.2f}"


@register.filter
def percent(value: Any) -> str:
    """A share 0…1 as "42%"; None (nothing to divide) → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.0f}%"


@register.filter
def percent_precise(value: Any) -> str:
    """A share 0…1 as "84.3%" (held-out figures, where a point matters); None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"
