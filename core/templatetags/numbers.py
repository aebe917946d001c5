"""Numbers as people type them: `{{ line.quantity|plain_decimal }}` shows 20 for Decimal("20.00"), never "2E+1"
(what `.normalize` prints for round numbers) and never "20.00" for a quantity."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def plain_decimal(value) -> str:
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return f"{number.normalize() if number else Decimal(0):f}"
