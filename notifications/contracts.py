"""What other apps hand to `notifications.facade`: the event types they register, and the channel and priority names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

IN_APP = "in_app"
EMAIL = "email"
SMS = "sms"
PUSH = "push"
CHANNELS = (IN_APP, EMAIL, SMS, PUSH)
CHANNEL_LABELS = {IN_APP: "In app", EMAIL: "Email", SMS: "SMS", PUSH: "Push"}

LOW = "low"
NORMAL = "normal"
HIGH = "high"
PRIORITIES = (LOW, NORMAL, HIGH)


@dataclass(frozen=True)
class EventType:
    """A kind of notification an app sends, e.g. "ticket.mentioned".

    `sample_context` is a plain nested dict shaped like the `context` the app passes to `notify()`: the template
    editor previews with it and refuses placeholders it does not have. `title` and `body` are the default templates
    (`{{ path }}` placeholders, core.placeholders) every channel starts from; a workspace may override them per
    channel. Low-priority events may be batched into digests; high-priority ones ignore quiet hours.
    """

    key: str
    label: str
    description: str = ""
    default_channels: tuple[str, ...] = (IN_APP, EMAIL)
    priority: str = NORMAL
    sample_context: Mapping[str, object] = field(default_factory=dict)
    title: str = ""
    body: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.default_channels) - set(CHANNELS)
        if unknown:
            raise ValueError(f"Unknown channels {sorted(unknown)} for event type {self.key!r}.")
        if self.priority not in PRIORITIES:
            raise ValueError(f"Unknown priority {self.priority!r} for event type {self.key!r}.")


@dataclass(frozen=True)
class NotificationCounts:
    unread: int
