"""The registry of event types: each app registers what it sends (`notifications.facade.event_type_register`), and
the preferences page, the template editor and the fan-out read them here. Notifications registers the events of
apps that may not import it (`ai`) and its own (mentions, followed tickets)."""

from __future__ import annotations

from .contracts import EMAIL, IN_APP, LOW, PUSH, EventType

_registry: dict[str, EventType] = {}

TICKET_MENTIONED = "ticket.mentioned"
TICKET_FOLLOWED_CHANGED = "ticket.followed_changed"
AI_BUDGET_EXHAUSTED = "ai.budget_exhausted"


def event_type_register(event_type: EventType) -> None:
    """Registers (or replaces, e.g. on a reload) an event type under its key."""
    _registry[event_type.key] = event_type


def event_type_get(key: str) -> EventType | None:
    return _registry.get(key)


def event_types() -> list[EventType]:
    """Every registered event type, by label."""
    return sorted(_registry.values(), key=lambda event_type: event_type.label.lower())


def register_builtin() -> None:
    event_type_register(
        EventType(
            TICKET_MENTIONED,
            "Mentioned in a ticket note",
            "A teammate @mentions you in an internal note.",
            default_channels=(IN_APP, EMAIL, PUSH),
            sample_context={
                "ticket": {"id": "42", "subject": "Printer on fire"},
                "actor": {"name": "Dana Agent"},
                "note": {"excerpt": "@Sam can you check the warranty?"},
            },
            title="{{ actor.name }} mentioned you on #{{ ticket.id }}",
            body="{{ actor.name }} mentioned you on ticket #{{ ticket.id }} “{{ ticket.subject }}”:\n"
            "{{ note.excerpt }}",
        )
    )
    event_type_register(
        EventType(
            TICKET_FOLLOWED_CHANGED,
            "A ticket you follow changed",
            "Someone else replied, changed the status, priority or assignee of a ticket you follow.",
            default_channels=(IN_APP,),
            priority=LOW,
            sample_context={
                "ticket": {"id": "42", "subject": "Printer on fire", "status": "Open"},
                "actor": {"name": "Dana Agent"},
                "change": {"summary": "status: new → open"},
            },
            title="#{{ ticket.id }} {{ ticket.subject }}: {{ change.summary }}",
            body='{{ actor.name|default:"Someone" }} changed ticket #{{ ticket.id }} “{{ ticket.subject }}”: '
            "{{ change.summary }}",
        )
    )
    event_type_register(
        EventType(
            AI_BUDGET_EXHAUSTED,
            "AI budget spent",
            "An AI provider's monthly budget is spent: AI features fall back to the local model.",
            default_channels=(IN_APP, EMAIL),
            sample_context={"provider": {"name": "OpenAI (team)"}, "month": "December 2026"},
            title="The AI budget of {{ provider.name }} is spent for {{ month }}",
            body="The monthly budget of {{ provider.name }} is spent for {{ month }}. Until the next month (or a "
            "higher budget), AI features use the next provider or the local model.",
        )
    )
