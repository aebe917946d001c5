"""Every write of notifications: `notify()` (a Dispatch row, its fan-out queued on commit), the fan-out itself
(in-app rows and deliveries in bulk), sending and retrying deliveries, digests, read marks, preferences, templates,
push subscriptions and follows."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.emails import workspace_name
from core.links import workspace_url
from core.outbox import enqueue_on_commit

from . import live, preferences, rendering, senders
from .contracts import CHANNELS, EMAIL, HIGH, IN_APP, LOW, PRIORITIES, PUSH, SMS, EventType
from .events import event_type_get
from .models import (
    Delivery,
    DeliverySettings,
    Dispatch,
    Follow,
    Notification,
    NotificationTemplate,
    Preference,
    PushSubscription,
)

logger = logging.getLogger(__name__)

SEND_CHUNK = 50
MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 60  # 1, 2, 4, 8 minutes between attempts
LOST_AFTER = timedelta(minutes=2)  # a queued delivery nobody picked up (its task was lost) is swept after this
DIGEST_DAILY_HOUR = 8  # local time a daily digest leaves
SWEEP_LIMIT = 500


class NotifyError(ValueError):
    pass


# --- notify -----------------------------------------------------------------------------------------


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
    """Queues `event` for these people of the workspace once the caller's transaction commits (a rollback tells
    no one). The actor is never told of their own doing; a repeated `dedupe_key` is a no-op."""
    event_type = event_type_get(event)
    if event_type is None:
        raise NotifyError(f"Unknown event type {event!r}: register it with event_type_register().")
    if priority is not None and priority not in PRIORITIES:
        raise NotifyError(f"Unknown priority {priority!r}.")
    ids = sorted({int(user_id) for user_id in recipients} - {actor_id})
    if not ids:
        return
    dispatch = Dispatch(
        event=event,
        recipient_ids=ids,
        context=_plain(context),
        link=link[:500],
        actor_id=actor_id,
        priority=priority or event_type.priority,
        dedupe_key=dedupe_key[:200],
    )
    from .tasks import dispatch_fan_out_task  # the task module imports these services

    try:
        with transaction.atomic():
            dispatch.save()
    except IntegrityError:
        if dedupe_key:
            return  # told already (or being told by a transaction that holds the key)
        raise
    enqueue_on_commit(dispatch_fan_out_task, dispatch.pk)


def _plain(value: object) -> object:
    """The context as JSON of strings: what the templates see, whatever the caller passed."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None:
        return ""
    return str(value)


# --- fan-out ----------------------------------------------------------------------------------------


def dispatch_fan_out(dispatch_id: int) -> int:
    """Every recipient's in-app row and deliveries, in bulk; returns how many deliveries were made. Runs once per
    dispatch (a second run finds it done)."""
    now = timezone.now()
    with transaction.atomic():
        dispatch = (
            Dispatch.objects.select_for_update(skip_locked=True)
            .filter(pk=dispatch_id, fanned_out_at__isnull=True)
            .first()
        )
        if dispatch is None:
            return 0
        event_type = event_type_get(dispatch.event) or EventType(dispatch.event, dispatch.event)
        users = list(
            get_user_model()
            .objects.filter(pk__in=dispatch.recipient_ids, is_active=True)
            .exclude(pk=dispatch.actor_id)
            .values_list("pk", "email")
        )
        ids = [pk for pk, _email in users]
        channels = preferences.channels_for(event_type, ids)
        people = preferences.settings_for(ids)
        pushable = set(PushSubscription.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
        used = sorted({channel for wanted in channels.values() for channel in wanted})
        context = {
            **dispatch.context,
            "workspace": {"name": workspace_name()},
            "link": workspace_url(dispatch.link) if dispatch.link else "",
        }
        texts = {ch: rendering.render(w, context) for ch, w in rendering.wordings(event_type, used).items()}
        in_app = texts.get(IN_APP)
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    user_id=user_id,
                    dispatch=dispatch,
                    event=dispatch.event,
                    title=in_app.subject,
                    body=in_app.body,
                    link=dispatch.link,
                    actor_id=dispatch.actor_id,
                    priority=dispatch.priority,
                    created=now,
                )
                for user_id in ids
                if IN_APP in channels[user_id]
            ]
            if in_app
            else []
        )
        by_user = {row.user_id: row for row in notifications}
        deliveries = []
        for user_id in ids:
            person = people[user_id]
            quiet = None if dispatch.priority == HIGH else preferences.quiet_until(person, now)
            for channel in sorted(channels[user_id]):
                if channel == PUSH and user_id not in pushable:
                    continue  # no browser subscribed: nothing to deliver to
                text = texts[channel]
                delivery = Delivery(
                    dispatch=dispatch,
                    notification=by_user.get(user_id),
                    user_id=user_id,
                    event=dispatch.event,
                    channel=channel,
                    title=text.subject,
                    body=text.body,
                    link=dispatch.link,
                    created=now,
                )
                if channel == IN_APP:
                    delivery.status, delivery.delivered_at, delivery.sent_at = Delivery.Status.DELIVERED, now, now
                elif channel == SMS and not person.phone:
                    delivery.status, delivery.last_error = Delivery.Status.FAILED, "No mobile number in preferences."
                else:
                    if channel == EMAIL and dispatch.priority == LOW and person.digest:
                        delivery.digest = person.digest
                    delivery.not_before = quiet
                deliveries.append(delivery)
        Delivery.objects.bulk_create(deliveries)
        dispatch.fanned_out_at = now
        dispatch.save(update_fields=["fanned_out_at"])
        due = [
            row.pk
            for row in deliveries
            if row.status == Delivery.Status.QUEUED and not row.digest and row.not_before is None
        ]
        from .tasks import deliveries_send_task

        for start in range(0, len(due), SEND_CHUNK):
            enqueue_on_commit(deliveries_send_task, due[start : start + SEND_CHUNK])
        if notifications:
            live.notifications_push_on_commit(notifications)
    return len(deliveries)


# --- sending and retries ----------------------------------------------------------------------------


def deliveries_send(delivery_ids: Iterable[int]) -> int:
    """Sends each queued delivery that is due; returns how many went out."""
    return sum(delivery_send(delivery_id) for delivery_id in delivery_ids)


def delivery_send(delivery_id: int, *, now: datetime | None = None) -> bool:
    """One attempt. A failure is retried with backoff (the due sweep picks it up) until MAX_ATTEMPTS, then failed."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=delivery_id, status=Delivery.Status.QUEUED, digest="")
            .first()
        )
        if delivery is None or (delivery.not_before and delivery.not_before > now):
            return False
        delivery.attempts += 1
        try:
            answer = senders.send(delivery)
        except senders.PermanentFailure as error:
            delivery.status, delivery.last_error, delivery.not_before = Delivery.Status.FAILED, str(error)[:2000], None
        except Exception as error:
            logger.warning("delivery %s (%s) failed: %s", delivery.pk, delivery.channel, error)
            delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status, delivery.not_before = Delivery.Status.FAILED, None
            else:
                delivery.not_before = now + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1))
        else:
            delivery.status, delivery.sent_at, delivery.answer = Delivery.Status.SENT, now, str(answer)[:500]
            delivery.last_error, delivery.not_before = "", None
        delivery.save()
        return delivery.status == Delivery.Status.SENT


def deliveries_due_send(*, now: datetime | None = None) -> int:
    """Deliveries whose quiet hours ended or whose retry is due, and those whose send task was lost."""
    now = now or timezone.now()
    due = Delivery.objects.filter(status=Delivery.Status.QUEUED, digest="", not_before__lte=now)
    lost = Delivery.objects.filter(
        status=Delivery.Status.QUEUED, digest="", not_before__isnull=True, created__lte=now - LOST_AFTER
    )
    ids = list(due.order_by("not_before").values_list("pk", flat=True)[:SWEEP_LIMIT])
    ids += list(lost.values_list("pk", flat=True)[: SWEEP_LIMIT - len(ids)])
    return sum(delivery_send(delivery_id, now=now) for delivery_id in ids)


def digests_send(*, now: datetime | None = None) -> int:
    """One email per person listing their low-priority notices held for a digest: hourly ones every run, daily
    ones at DIGEST_DAILY_HOUR local time (or once the oldest is a day old). Returns the number of emails sent."""
    now = now or timezone.now()
    held = (
        Delivery.objects.filter(status=Delivery.Status.QUEUED, channel=EMAIL)
        .exclude(digest="")
        .select_related("user")
        .order_by("user_id", "created", "id")
    )
    per_user: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in held:
        per_user[delivery.user_id].append(delivery)
    if not per_user:
        return 0
    people = preferences.settings_for(per_user)
    sent = 0
    for user_id, items in per_user.items():
        if items[0].digest == Delivery.Digest.DAILY:
            local = now.astimezone(people[user_id].zone())
            if local.hour != DIGEST_DAILY_HOUR and now - items[0].created < timedelta(days=1):
                continue
        with transaction.atomic():
            try:
                answer = senders.digest_send(items[0].user, items)
            except Exception as error:
                logger.warning("digest to %s failed: %s", user_id, error)
                Delivery.objects.filter(pk__in=[item.pk for item in items]).update(
                    last_error=f"{type(error).__name__}: {error}"[:2000], updated=now
                )
                continue
            Delivery.objects.filter(pk__in=[item.pk for item in items]).update(
                status=Delivery.Status.SENT, sent_at=now, answer=f"digest: {answer}"[:500], attempts=1, updated=now
            )
        sent += 1
    return sent


def delivery_status_set(*, delivery_id: int, status: str, answer: str = "") -> None:
    """A channel's later report (delivered, failed) on a sent delivery."""
    now = timezone.now()
    fields: dict[str, object] = {"status": status, "updated": now}
    if status == Delivery.Status.DELIVERED:
        fields["delivered_at"] = now
    if answer:
        fields["answer"] = answer[:500]
    Delivery.objects.filter(pk=delivery_id).update(**fields)


# --- reading ----------------------------------------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> Notification | None:
    now = timezone.now()
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        return None
    if notification.read_at is None:
        notification.read_at = now
        notification.save(update_fields=["read_at"])
        Delivery.objects.filter(notification=notification).update(status=Delivery.Status.READ, read_at=now, updated=now)
        live.bell_push_on_commit(user.pk)
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user) -> int:
    now = timezone.now()
    ids = list(Notification.objects.unread().filter(user=user).values_list("pk", flat=True))
    if not ids:
        return 0
    Notification.objects.filter(pk__in=ids).update(read_at=now)
    Delivery.objects.filter(notification_id__in=ids).update(status=Delivery.Status.READ, read_at=now, updated=now)
    live.bell_push_on_commit(user.pk)
    return len(ids)


# --- preferences, settings, templates -----------------------------------------------------------------


def _owned_by(model, user_id: int | None):
    """The rows of a person, or the workspace's defaults (user is NULL) with `user_id=None`."""
    return model.objects.filter(user_id=user_id) if user_id else model.objects.filter(user__isnull=True)


@transaction.atomic
def preferences_save(*, user_id: int | None, choices: Mapping[tuple[str, str], bool]) -> None:
    """Stores (event, channel) → on/off for a person, or the workspace's defaults with `user_id=None`."""
    _owned_by(Preference, user_id).delete()
    Preference.objects.bulk_create(
        [
            Preference(user_id=user_id, event=event, channel=channel, enabled=enabled)
            for (event, channel), enabled in choices.items()
            if channel in CHANNELS
        ]
    )


@transaction.atomic
def delivery_settings_save(*, user_id: int | None, **values: object) -> DeliverySettings:
    """Quiet hours, time zone, digest and mobile number of a person (or the workspace's defaults)."""
    row = _owned_by(DeliverySettings, user_id).first() or DeliverySettings(user_id=user_id)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row


@transaction.atomic
def template_save(*, event: str, channel: str, subject: str, body: str, actor=None) -> NotificationTemplate:
    row, _created = NotificationTemplate.objects.update_or_create(
        event=event, channel=channel, defaults={"subject": subject, "body": body, "updated_by": actor}
    )
    return row


@transaction.atomic
def template_reset(*, event: str, channel: str) -> None:
    NotificationTemplate.objects.filter(event=event, channel=channel).delete()


# --- push subscriptions -----------------------------------------------------------------------------


@transaction.atomic
def push_subscription_save(*, user, endpoint: str, p256dh: str, auth: str, user_agent: str = "") -> PushSubscription:
    row, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]}
    )
    return row


@transaction.atomic
def push_subscription_delete(*, user, endpoint: str) -> int:
    return PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]


# --- follows ----------------------------------------------------------------------------------------


def follow_set(*, user_id: int, object_type: str, object_id: int, following: bool) -> bool:
    if following:
        Follow.objects.get_or_create(user_id=user_id, object_type=object_type, object_id=object_id)
    else:
        Follow.objects.filter(user_id=user_id, object_type=object_type, object_id=object_id).delete()
    return following


def followers(*, object_type: str, object_id: int) -> list[int]:
    return list(Follow.objects.filter(object_type=object_type, object_id=object_id).values_list("user_id", flat=True))


def is_following(*, user_id: int, object_type: str, object_id: int) -> bool:
    return Follow.objects.filter(user_id=user_id, object_type=object_type, object_id=object_id).exists()
