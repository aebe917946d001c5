"""What a run costs: list prices in USD per million tokens, per provider and model.

Prices are the vendors' public list prices for standard (non-batch, non-cached) tokens as published in 2025;
update them here when a vendor changes its price list. A model id that is not listed exactly is matched by its
longest listed prefix ("gpt-4o-mini-2024-07-18" → "gpt-4o-mini"); an unknown model of a paid vendor is priced
at that vendor's "*" row, deliberately on the expensive side so a budget errs towards stopping early.

A workspace with contract prices, or an OpenAI-compatible server of its own (Ollama, vLLM), sets
`extra["price_per_million"] = {"input": 0, "output": 0}` on its provider configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

MILLION = Decimal(1_000_000)
COST_PLACES = Decimal("0.000001")


def _p(input_price: str, output_price: str) -> tuple[Decimal, Decimal]:
    return Decimal(input_price), Decimal(output_price)


FREE = _p("0", "0")

# provider -> model (or prefix) -> (input, output) USD per 1M tokens.
PRICES: dict[str, dict[str, tuple[Decimal, Decimal]]] = {
    "local": {"*": FREE},
    "openai": {
        "gpt-4o-mini": _p("0.15", "0.60"),
        "gpt-4o": _p("2.50", "10.00"),
        "gpt-4.1-nano": _p("0.10", "0.40"),
        "gpt-4.1-mini": _p("0.40", "1.60"),
        "gpt-4.1": _p("2.00", "8.00"),
        "gpt-5-nano": _p("0.05", "0.40"),
        "gpt-5-mini": _p("0.25", "2.00"),
        "gpt-5": _p("1.25", "10.00"),
        "o4-mini": _p("1.10", "4.40"),
        "o3": _p("2.00", "8.00"),
        "text-embedding-3-small": _p("0.02", "0"),
        "text-embedding-3-large": _p("0.13", "0"),
        "*": _p("2.50", "10.00"),
    },
    "anthropic": {
        "claude-3-5-haiku": _p("0.80", "4.00"),
        "claude-haiku-4-5": _p("1.00", "5.00"),
        "claude-3-5-sonnet": _p("3.00", "15.00"),
        "claude-3-7-sonnet": _p("3.00", "15.00"),
        "claude-sonnet-4": _p("3.00", "15.00"),
        "claude-opus-4": _p("15.00", "75.00"),
        "*": _p("3.00", "15.00"),
    },
    "google": {
        "gemini-2.0-flash-lite": _p("0.075", "0.30"),
        "gemini-2.0-flash": _p("0.10", "0.40"),
        "gemini-2.5-flash-lite": _p("0.10", "0.40"),
        "gemini-2.5-flash": _p("0.30", "2.50"),
        "gemini-2.5-pro": _p("1.25", "10.00"),
        "text-embedding-004": FREE,
        "*": _p("1.25", "10.00"),
    },
    # Microsoft 365 Copilot is licensed per seat, not per token: runs cost nothing extra.
    "copilot": {"*": FREE},
}


def price_for(provider: str, model: str, extra: Mapping[str, Any] | None = None) -> tuple[Decimal, Decimal]:
    """(input, output) USD per million tokens; a configuration's own `price_per_million` wins."""
    override = (extra or {}).get("price_per_million")
    if isinstance(override, Mapping):
        try:
            return Decimal(str(override.get("input", 0))), Decimal(str(override.get("output", 0)))
        except InvalidOperation:
            pass  # a typo in the settings must not break runs; the list price applies
    table = PRICES.get(provider)
    if table is None:
        return FREE
    if model in table:
        return table[model]
    prefixes = [name for name in table if name != "*" and model.startswith(name)]
    if prefixes:
        return table[max(prefixes, key=len)]
    return table.get("*", FREE)


def cost_usd(
    provider: str, model: str, input_tokens: int, output_tokens: int, extra: Mapping[str, Any] | None = None
) -> Decimal:
    input_price, output_price = price_for(provider, model, extra)
    cost = (Decimal(input_tokens) * input_price + Decimal(output_tokens) * output_price) / MILLION
    return cost.quantize(COST_PLACES)
