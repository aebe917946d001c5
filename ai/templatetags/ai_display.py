"""Filters that present AI figures the same way everywhere: provider names, latencies, costs and rates."""

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
