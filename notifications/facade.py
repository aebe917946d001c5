"""What other apps may use of notifications: `notify()` and `event_type_register()`, plus follows (who follows a
ticket) for the pages that offer Follow. Contracts: notifications.contracts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .contracts import EMAIL, HIGH, IN_APP, LOW, NORMAL, PUSH, SMS, EventType
from .events import event_type_register

__all__ = [
    "EMAIL",
    "HIGH",
    "IN_APP",
    "LOW",
    "NORMAL",
    "PUSH",
    "SMS",
    "EventType",
    "event_type_register",
    "follow_set",
    "followers",
    "is_following",
    "notify",
]


def notify(
    *,
    recipients: Iterable[int],
    event: str,
    context: Mapping[str, object],
    link: str = "",
    actor_id: int | None = None,
    priority: str | None = None,
    dedupe_key: str = "",
) -> None:
    """Tells these people (user ids of the current workspace) about `event` on the channels they chose, once the
    caller's transaction commits. `context` is a plain nested dict for the templates (`{{ ticket.subject }}`),
    `link` a path in the workspace. The actor is never told; a repeated `dedupe_key` is a no-op."""
    from .services import notify as _notify

    _notify(
        recipients=recipients,
        event=event,
        context=context,
        link=link,
        actor_id=actor_id,
        priority=priority,
        dedupe_key=dedupe_key,
    )


def follow_set(*, user_id: int, object_type: str, object_id: int, following: bool) -> bool:
    from .services import follow_set as _follow_set

    return _follow_set(user_id=user_id, object_type=object_type, object_id=object_id, following=following)


def followers(*, object_type: str, object_id: int) -> list[int]:
    from .services import followers as _followers

    return _followers(object_type=object_type, object_id=object_id)


def is_following(*, user_id: int, object_type: str, object_id: int) -> bool:
    from .services import is_following as _is_following

    return _is_following(user_id=user_id, object_type=object_type, object_id=object_id)
