"""Template helpers for macros and what they (or automation rules) did (`{% load macro_tags %}`)."""

from __future__ import annotations

from django import template

register = template.Library()

_SOURCE_NAMES = {"macro": "by macro", "rule": "by automation rule"}


@register.filter
def event_source(source: str) -> str:
    """ "macro:3" → "by macro #3", "rule:12" → "by automation rule #12" (a ticket history entry's `source`)."""
    kind, _, number = str(source or "").partition(":")
    name = _SOURCE_NAMES.get(kind)
    if name is None:
        return f"via {source}"
    return f"{name} #{number}" if number else name
