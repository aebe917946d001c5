"""Who gets an event on which channel, and when: preferences (person over workspace default over the event's
default channels), quiet hours and digests. Read for many people at once: one query each for preferences and
settings, never one per person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings as django_settings
from django.db.models import Q

from .contracts import CHANNELS, EventType
from .models import DeliverySettings, Preference


@dataclass(frozen=True)
class PersonSettings:
    timezone: str = ""
    quiet_start: time | None = None
    quiet_end: time | None = None
    digest: str = ""
    phone: str = ""

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone or django_settings.TIME_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def _merge(default: DeliverySettings | None, own: DeliverySettings | None) -> PersonSettings:
    """A person's own settings where they set them, else the workspace's."""
    rows = [row for row in (own, default) if row is not None]

    def first(name: str):
        for row in rows:
            value = getattr(row, name)
            if value not in (None, ""):
                return value
        return None

    quiet_from = next((row for row in rows if row.quiet_start is not None and row.quiet_end is not None), None)
    return PersonSettings(
        timezone=first("timezone") or "",
        quiet_start=quiet_from.quiet_start if quiet_from else None,
        quiet_end=quiet_from.quiet_end if quiet_from else None,
        digest=(own.digest if own is not None and own.digest else (default.digest if default else "")) or "",
        phone=own.phone if own is not None else "",
    )


def settings_for(user_ids: Iterable[int]) -> dict[int, PersonSettings]:
    """Each person's effective settings (one query)."""
    ids = list(user_ids)
    rows = list(DeliverySettings.objects.filter(Q(user_id__in=ids) | Q(user__isnull=True)))
    default = next((row for row in rows if row.user_id is None), None)
    own = {row.user_id: row for row in rows if row.user_id is not None}
    return {user_id: _merge(default, own.get(user_id)) for user_id in ids}


def channels_for(event_type: EventType, user_ids: Iterable[int]) -> dict[int, set[str]]:
    """The channels each person gets this event on (one query): the event's defaults, changed by the workspace's
    defaults, changed by the person's own choices."""
    ids = list(user_ids)
    rows = Preference.objects.filter(event=event_type.key).filter(Q(user_id__in=ids) | Q(user__isnull=True))
    workspace = set(event_type.default_channels)
    own: dict[int, dict[str, bool]] = {}
    for user_id, channel, enabled in rows.values_list("user_id", "channel", "enabled"):
        if user_id is None:
            (workspace.add if enabled else workspace.discard)(channel)
        else:
            own.setdefault(user_id, {})[channel] = enabled
    result = {}
    for user_id in ids:
        channels = set(workspace)
        for channel, enabled in own.get(user_id, {}).items():
            (channels.add if enabled else channels.discard)(channel)
        result[user_id] = channels & set(CHANNELS)
    return result


def quiet_until(person: PersonSettings, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if `now` is inside them (None otherwise). A window may cross midnight."""
    start, end = person.quiet_start, person.quiet_end
    if start is None or end is None or start == end:
        return None
    zone = person.zone()
    local = now.astimezone(zone)
    today = local.date()
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = today
    else:  # 22:00–07:00
        inside = clock >= start or clock < end
        end_day = today + timedelta(days=1) if clock >= start else today
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone)


def grid(event_types: list[EventType], *, user_id: int | None) -> dict[str, dict[str, bool]]:
    """event key → channel → on, as this person (or, with no user, the workspace) has it now."""
    if user_id is None:
        rows = Preference.objects.filter(user__isnull=True)
        own: dict[tuple[str, str], bool] = {}
        workspace = {
            (event, channel): enabled for event, channel, enabled in rows.values_list("event", "channel", "enabled")
        }
    else:
        rows = Preference.objects.filter(Q(user_id=user_id) | Q(user__isnull=True))
        workspace, own = {}, {}
        for owner, event, channel, enabled in rows.values_list("user_id", "event", "channel", "enabled"):
            (own if owner else workspace)[(event, channel)] = enabled
    result = {}
    for event_type in event_types:
        result[event_type.key] = {
            channel: own.get(
                (event_type.key, channel),
                workspace.get((event_type.key, channel), channel in event_type.default_channels),
            )
            for channel in CHANNELS
        }
    return result


def preference_rows(event_types: list[EventType], choices: dict[str, dict[str, bool]]) -> list:
    """(event type, [(channel, label, on)…]) for the preferences grid."""
    from .contracts import CHANNEL_LABELS

    return [
        (event_type, [(channel, CHANNEL_LABELS[channel], choices[event_type.key][channel]) for channel in CHANNELS])
        for event_type in event_types
    ]
