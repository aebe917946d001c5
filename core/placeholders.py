"""Safe placeholder substitution for text that workspaces write: macros, rule emails, notification templates.

`{{ ticket.requester.first_name }}` is looked up in a plain nested dict of strings the caller built, never in model
objects and never through Django's template engine: workspace-authored text cannot call methods, reach attributes,
load tags or read settings. One filter exists, `default`: `{{ ticket.requester.first_name|default:"there" }}`.
A placeholder with no value becomes its default (or nothing); `placeholders_unknown` lets a form refuse names the
context will never have, so a typo is caught when the text is saved, not when a customer reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.html import escape

_PLACEHOLDER = re.compile(
    r"\{\{\s*(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"\s*(?:\|\s*default\s*:\s*(?P<quote>[\"'])(?P<default>.*?)(?P=quote)\s*)?\}\}"
)
_ANY_BRACES = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)

Context = Mapping[str, object]


@dataclass(frozen=True)
class Placeholder:
    path: str
    default: str


def placeholders_find(text: str) -> list[Placeholder]:
    """The placeholders of `text`, in order of appearance."""
    return [Placeholder(m["path"], m["default"] or "") for m in _PLACEHOLDER.finditer(text or "")]


def placeholders_malformed(text: str) -> list[str]:
    """Brace groups that are not a placeholder this module substitutes (`{% if %}`, `{{ x|upper }}`, `{{ x.0 }}`)."""
    return [m.group(0) for m in _ANY_BRACES.finditer(text or "") if not _PLACEHOLDER.fullmatch(m.group(0))]


def placeholders_unknown(text: str, known: Iterable[str]) -> list[str]:
    """Placeholder paths in `text` that are not among `known` (dotted paths such as "ticket.requester.first_name")."""
    known = set(known)
    return sorted({p.path for p in placeholders_find(text)} - known)


def placeholders_paths(context: Context, prefix: str = "") -> list[str]:
    """Every leaf path of a context, for a form's list of what may be used and for `placeholders_unknown`."""
    paths: list[str] = []
    for key, value in context.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            paths.extend(placeholders_paths(value, prefix=f"{path}."))
        else:
            paths.append(path)
    return sorted(paths)


def _lookup(context: Context, path: str) -> str:
    value: object = context
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return ""
        value = value[part]
    if value is None or isinstance(value, Mapping):
        return ""
    return str(value)


def placeholders_render(text: str, context: Context, *, html: bool = False) -> str:
    """`text` with each placeholder replaced by its value from `context` (or its default). With `html=True` the
    values are escaped (the text itself is the author's and is left as written)."""

    def replace(match: re.Match) -> str:
        value = _lookup(context, match["path"]) or (match["default"] or "")
        return escape(value) if html else value

    return _PLACEHOLDER.sub(replace, text or "")
