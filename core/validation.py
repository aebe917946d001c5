"""Validation helpers for services: the checks every write repeats, raised as field-keyed ValidationErrors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Choices


def required_text(value: str | None, *, field: str, label: str, limit: int) -> str:
    """`value` stripped; refused when empty or longer than `limit` characters."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"{label} cannot be empty."})
    if len(value) > limit:
        raise ValidationError({field: f"{label} is too long ({len(value):,} characters; at most {limit:,})."})
    return value


def valid_choice(value: str, choices: type[Choices], field: str) -> str:
    """`value` when it is one of `choices`; refused with the list of valid values otherwise."""
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationError({field: f"“{value}” is not a valid {field}; use one of: {allowed}."})
    return value
