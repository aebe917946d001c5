"""The wording of a notification per event and channel: the workspace's template when it has one, else the
default shipped with the event type, filled in with core.placeholders (never Django's template engine)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.placeholders import placeholders_malformed, placeholders_paths, placeholders_render, placeholders_unknown

from .contracts import EMAIL, PUSH, SMS, EventType
from .models import NotificationTemplate

# Paths every template may use besides the event's own context.
COMMON_CONTEXT = {"workspace": {"name": "Acme"}, "link": "https://acme.example/tickets/42/"}


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str


def default_wording(event_type: EventType, channel: str) -> Wording:
    """What ships with the code: the event's title and body, shaped for the channel."""
    title = event_type.title or event_type.label
    body = event_type.body or title
    if channel == EMAIL:
        return Wording(title, f"{body}\n\n{{{{ link }}}}")
    if channel == SMS:
        return Wording(title, f"{title} {{{{ link }}}}")
    if channel == PUSH:
        return Wording(title, body)
    return Wording(title, body)


def wordings(event_type: EventType, channels: list[str]) -> dict[str, Wording]:
    """The wording of each channel for this event (one query for the workspace's overrides)."""
    overrides = {
        row.channel: Wording(row.subject, row.body)
        for row in NotificationTemplate.objects.filter(event=event_type.key, channel__in=channels)
    }
    return {channel: overrides.get(channel) or default_wording(event_type, channel) for channel in channels}


def render(wording: Wording, context: Mapping[str, object]) -> Wording:
    subject = " ".join(placeholders_render(wording.subject, context).split())
    return Wording(subject[:300], placeholders_render(wording.body, context))


def known_paths(event_type: EventType) -> list[str]:
    return placeholders_paths({**COMMON_CONTEXT, **event_type.sample_context})


def problems(event_type: EventType, text: str) -> list[str]:
    """Why a template text cannot be saved: placeholders the event never has, or brace groups we do not substitute."""
    found = [f"Unknown placeholder {{{{ {path} }}}}" for path in placeholders_unknown(text, known_paths(event_type))]
    found += [f"Not a placeholder: {group}" for group in placeholders_malformed(text)]
    return found
