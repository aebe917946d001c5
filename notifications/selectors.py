"""Reads of notifications: a person's centre (keyset pages over an index per person), unread counts, the
delivery log for admins, and what the preferences and template pages show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from core.keyset import KeysetOrder, Page, paginate

from .models import Delivery, Notification

CENTRE_ORDER = KeysetOrder(("created", "id"), descending=True)
CENTRE_SALT = "notifications.centre"
DELIVERY_SALT = "notifications.deliveries"
PAGE_SIZE = 25
LATEST = 8
COUNT_CAP = 99


@dataclass(frozen=True)
class CentreFilters:
    unread: bool = False
    event: str = ""


def notification_page(*, user, filters: CentreFilters, cursor: str | None, page_size: int = PAGE_SIZE) -> Page:
    rows = Notification.objects.filter(user=user).only("id", "event", "title", "body", "link", "read_at", "created")
    if filters.unread:
        rows = rows.filter(read_at__isnull=True)
    if filters.event:
        rows = rows.filter(event=filters.event)
    return paginate(rows, order=CENTRE_ORDER, cursor=cursor, page_size=page_size, salt=CENTRE_SALT)


def notifications_latest(*, user, limit: int = LATEST) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("-created", "-id")[:limit])


def unread_count(*, user) -> int:
    """Up to COUNT_CAP + 1 ("99+"): counting every unread row of someone who never reads costs more than it tells."""
    return Notification.objects.unread().filter(user=user).values("pk")[: COUNT_CAP + 1].count()


def unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """Unread rows per person, for a fan-out's pushes (one query, over the unread index)."""
    rows = (
        Notification.objects.unread()
        .filter(user_id__in=list(user_ids))
        .values("user_id")
        .annotate(count=Count("id"))
        .values_list("user_id", "count")
    )
    return dict(rows)


def notification_events(*, user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("event", flat=True).distinct().order_by("event"))


@dataclass(frozen=True)
class DeliveryFilters:
    status: str = ""
    channel: str = ""
    recipient: int | None = None


def delivery_page(*, filters: DeliveryFilters, cursor: str | None, page_size: int = 50) -> Page:
    rows: QuerySet = Delivery.objects.select_related("user")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.recipient:
        rows = rows.filter(user_id=filters.recipient)
    return paginate(rows, order=CENTRE_ORDER, cursor=cursor, page_size=page_size, salt=DELIVERY_SALT)
