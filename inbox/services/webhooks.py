"""Outbound webhooks: subscriptions, one delivery row per event and subscription (the row is the outbox), signed
sends through the egress guard, retries with backoff for a day, redelivery, and auto-disable after repeated failures.

A delivery is queued when the helpdesk's `ticket_event` arrives (inbox.receivers), sent by Celery at once, and
retried by the minute sweep (`webhook_retry_due`) when its `next_attempt_at` comes. The body is fixed when the
row is written, so every attempt and every redelivery carries the same bytes and the same delivery id; only the
signature's timestamp changes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from accounts.facade import manager_emails
from core import egress
from core.links import workspace_url
from core.outbox import enqueue_on_commit
from helpdesk.contracts import TICKET_EVENTS, TicketEventPayload

from .. import emails
from ..models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Switchboard-Signature"
EVENT_HEADER = "X-Switchboard-Event"
DELIVERY_HEADER = "X-Switchboard-Delivery"
TIMEOUT_SECONDS = 10.0
RETRY_FOR = timedelta(hours=24)
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 60 * 60
DISABLE_AFTER = 50  # failed attempts in a row
EXCERPT_CHARS = 500
MAX_EVENTS_PER_SWEEP = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
EVENT_LABELS = {
    "ticket.created": "Ticket created",
    "ticket.updated": "Ticket updated",
    "ticket.solved": "Ticket solved",
    "message.created": "Public message added",
    "sla.breached": "SLA breached",
    "csat.received": "CSAT answer received",
}


# --- Subscriptions --------------------------------------------------------------------------------


def _clean(url: str, events: Iterable[str], description: str) -> tuple[str, list[str], str]:
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    try:
        egress.check_url(url)
    except egress.EgressRefused as refused:
        errors["url"] = [str(refused)]
    chosen = sorted(set(events))
    unknown = [event for event in chosen if event not in TICKET_EVENTS]
    if unknown or not chosen:
        errors["events"] = [f"Choose one or more of: {', '.join(TICKET_EVENTS)}."]
    if errors:
        raise ValidationError(errors)
    return url, chosen, (description or "").strip()[:200]


@transaction.atomic
def webhook_subscription_create(
    *, url: str, events: Iterable[str], description: str = "", enabled: bool = True
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret, returned once (only its encrypted form is stored)."""
    url, events, description = _clean(url, events, description)
    subscription = WebhookSubscription(url=url, events=events, description=description, enabled=enabled)
    secret = _new_secret()
    subscription.secret_set(secret)
    subscription.save()
    return subscription, secret


@transaction.atomic
def webhook_subscription_update(
    *, subscription: WebhookSubscription, url: str, events: Iterable[str], description: str = "", enabled: bool
) -> WebhookSubscription:
    """Turning a subscription back on forgets its failures, so it gets its full 50 attempts again."""
    url, events, description = _clean(url, events, description)
    subscription.url, subscription.events, subscription.description = url, events, description
    if enabled and not subscription.enabled:
        subscription.consecutive_failures = 0
        subscription.disabled_reason = ""
    subscription.enabled = enabled
    subscription.save()
    return subscription


def webhook_secret_rotate(*, subscription: WebhookSubscription) -> str:
    secret = _new_secret()
    subscription.secret_set(secret)
    subscription.save(update_fields=["secret_encrypted"])
    return secret


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()


def _new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


# --- Events in --------------------------------------------------------------------------------------


@transaction.atomic
def webhook_event_dispatch(event: TicketEventPayload) -> list[WebhookDelivery]:
    """One delivery per enabled subscription that wants this event, each queued for sending after commit."""
    subscriptions = list(WebhookSubscription.objects.filter(enabled=True, events__contains=[event.event]))
    deliveries = []
    for subscription in subscriptions:
        delivery = WebhookDelivery(subscription=subscription, event=event.event, ticket_id=event.ticket_id)
        delivery.body = _body(delivery, event)
        delivery.next_attempt_at, delivery.retry_until = delivery.created, delivery.created + RETRY_FOR
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    from ..tasks.webhooks import webhook_deliver_task  # the task module calls these services

    for delivery in deliveries:
        enqueue_on_commit(webhook_deliver_task, delivery.pk)
    return deliveries


def _body(delivery: WebhookDelivery, event: TicketEventPayload) -> str:
    data = {"ticket": event.ticket}
    if event.message is not None:
        data["message"] = event.message
    data.update(event.data)
    document = {
        "id": str(delivery.delivery_id),
        "event": event.event,
        "occurred_at": event.occurred_at,
        "workspace": getattr(getattr(connection, "tenant", None), "slug", connection.schema_name),
        "data": data,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


# --- Signing ----------------------------------------------------------------------------------------


def signature_header(secret: str, body: str | bytes, timestamp: int) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as docs/webhooks.md tells receivers."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_valid(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """The receiving side of `signature_header` (the raw-mail webhook uses it): a fresh timestamp and a matching
    HMAC, compared in constant time."""
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature_header(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- Sending ----------------------------------------------------------------------------------------


def retry_delay(attempts: int, *, rand: Callable[[], float] | None = None) -> timedelta:
    """After the `attempts`-th failed attempt: 1, 2, 4 … minutes, capped at an hour, each shortened by up to a
    fifth at random so receivers coming back from an outage are not hit by every retry at once."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1), MAX_RETRY_SECONDS)
    return timedelta(seconds=base * (1 - 0.2 * (rand or random.random)()))


def webhook_deliver(delivery_id: int, *, now: datetime | None = None) -> WebhookDelivery | None:
    """One attempt, if the delivery is due and nobody else is sending it; records the outcome and what comes next.

    The row stays locked during the request (at most TIMEOUT_SECONDS), so two workers never send it twice.
    """
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, status__in=(WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING))
            .first()
        )
        if delivery is None:
            return None
        now = now or timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return delivery  # queued again early (a sweep and a redeliver): the due attempt comes later
        subscription = delivery.subscription
        if not subscription.enabled:
            _finish(delivery, WebhookDelivery.Status.FAILED, error="The subscription is turned off.")
            return delivery
        outcome = _attempt(subscription, delivery)
        _record(delivery, subscription, outcome, now)
    return delivery


def _commit_without_waiting_for_the_disk() -> None:
    """The attempt's record need not wait for an fsync (most of a delivery's database time): a PostgreSQL crash in
    the next moment could only bring back the row as it was, and the delivery is sent again with the same id,
    which receivers dedupe on anyway."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


class _Outcome:
    def __init__(self, *, ok: bool, status: int | None = None, excerpt: str = "", error: str = "", ms: int = 0):
        self.ok, self.status, self.excerpt, self.error, self.ms = ok, status, excerpt, error, ms


def _attempt(subscription: WebhookSubscription, delivery: WebhookDelivery) -> _Outcome:
    started = time.monotonic()
    try:
        egress.check_url(subscription.url)  # the policy or the name's address may have changed since it was saved
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Switchboard-Webhooks/1",
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.delivery_id),
            SIGNATURE_HEADER: signature_header(subscription.secret(), body, int(time.time())),
        }
        with _client().stream("POST", subscription.url, content=body, headers=headers) as response:
            status, head = response.status_code, _head(response)
    except Exception as error:  # refused, unreachable, timed out, TLS: each is a failed attempt, said in words
        refused = egress.refusal_in(error)
        text = f"Refused by the egress guard: {refused}" if refused else f"{type(error).__name__}: {error}"
        return _Outcome(ok=False, error=_sanitized(text), ms=_ms(started))
    excerpt = _sanitized(head.decode("utf-8", errors="replace"))
    return _Outcome(ok=200 <= status < 300, status=status, excerpt=excerpt, ms=_ms(started))


def _head(response) -> bytes:
    """The start of the answer, for the log; the rest is never read into memory."""
    head = b""
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= EXCERPT_CHARS * 4:
            break
    return head[: EXCERPT_CHARS * 4]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _sanitized(text: str) -> str:
    return _CONTROL.sub("", text).strip()[:EXCERPT_CHARS]


def _record(delivery: WebhookDelivery, subscription: WebhookSubscription, outcome: _Outcome, now: datetime) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status, delivery.response_excerpt = outcome.status, outcome.excerpt
    delivery.latency_ms, delivery.error = outcome.ms, outcome.error
    if outcome.ok:
        delivery.delivered_at = now
        _finish(delivery, WebhookDelivery.Status.DELIVERED)
        if subscription.consecutive_failures:
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        return
    if not outcome.error:
        delivery.error = f"The endpoint answered HTTP {outcome.status}; only 2xx counts as delivered."
    next_at = now + retry_delay(delivery.attempts)
    if next_at > (delivery.retry_until or delivery.created + RETRY_FOR):
        _finish(delivery, WebhookDelivery.Status.FAILED)
    else:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.RETRYING, next_at
        delivery.save()
    _failure_count(subscription)


def _finish(delivery: WebhookDelivery, status: str, *, error: str = "") -> None:
    delivery.status, delivery.next_attempt_at = status, None
    if error:
        delivery.error = error
    delivery.save()


def _failure_count(subscription: WebhookSubscription) -> None:
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    locked.consecutive_failures += 1
    locked.save(update_fields=["consecutive_failures"])
    if locked.enabled and locked.consecutive_failures >= DISABLE_AFTER:
        webhook_subscription_disable(subscription=locked)


def webhook_subscription_disable(*, subscription: WebhookSubscription) -> None:
    """Turned off after DISABLE_AFTER failures in a row: its waiting deliveries fail, the managers are told."""
    reason = f"Turned off after {subscription.consecutive_failures} failed deliveries in a row."
    subscription.enabled, subscription.disabled_reason = False, reason
    subscription.save(update_fields=["enabled", "disabled_reason"])
    subscription.deliveries.filter(status__in=(WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING)).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None, error="The subscription was turned off."
    )
    _disabled_notify(subscription)


def _disabled_notify(subscription: WebhookSubscription) -> None:
    recipients = manager_emails()
    if not recipients:
        return
    tenant = getattr(connection, "tenant", None)
    settings_url = workspace_url(f"/settings/channels/webhooks/{subscription.pk}/") if tenant is not None else ""
    emails.webhook_disabled_send(
        recipients=recipients,
        context={
            "subscription": subscription,
            "workspace_name": getattr(tenant, "name", "") or "Switchboard",
            "settings_url": settings_url,
        },
    )


# --- Retries and redelivery ---------------------------------------------------------------------------


def webhook_retry_due(*, now: datetime | None = None) -> int:
    """Queues every delivery whose next attempt is due (the minute sweep); returns how many."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status__in=(WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING), next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:MAX_EVENTS_PER_SWEEP]
    )
    from ..tasks.webhooks import webhook_deliver_task

    for pk in due:
        enqueue_on_commit(webhook_deliver_task, pk)
    return len(due)


@transaction.atomic
def webhook_custom_send(
    *, subscription_id: int, event: str, data: dict, ticket_id: int | None = None
) -> WebhookDelivery:
    """A delivery of `event` with `data` to one enabled subscription, whatever events it subscribed to (an
    automation rule's "call webhook"): signed, sent through the egress guard and retried like every delivery."""
    subscription = WebhookSubscription.objects.filter(pk=subscription_id, enabled=True).first()
    if subscription is None:
        raise ValidationError({"subscription": "That webhook does not exist or is switched off."})
    delivery = WebhookDelivery(subscription=subscription, event=event[:40], ticket_id=ticket_id)
    document = {
        "id": str(delivery.delivery_id),
        "event": event,
        "occurred_at": delivery.created,
        "workspace": getattr(getattr(connection, "tenant", None), "slug", connection.schema_name),
        "data": data,
    }
    delivery.body = json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    delivery.next_attempt_at, delivery.retry_until = delivery.created, delivery.created + RETRY_FOR
    delivery.save()
    from ..tasks.webhooks import webhook_deliver_task

    enqueue_on_commit(webhook_deliver_task, delivery.pk)
    return delivery


def webhook_subscription_choices() -> list[tuple[int, str]]:
    """(id, "url — description") of the enabled subscriptions, for a picker."""
    rows = WebhookSubscription.objects.filter(enabled=True).order_by("id").values_list("id", "url", "description")
    return [(pk, f"{url} — {description}" if description else url) for pk, url, description in rows]


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Sends the same body with the same delivery id again, now (a new attempt; the receiver dedupes on the id)."""
    locked = WebhookDelivery.objects.select_for_update(nowait=False).select_related("subscription").get(pk=delivery.pk)
    if not locked.subscription.enabled:
        raise ValidationError("Turn the subscription on before redelivering.")
    now = timezone.now()
    # A redelivery gets a fresh day of retries.
    locked.status, locked.next_attempt_at, locked.retry_until = WebhookDelivery.Status.PENDING, now, now + RETRY_FOR
    locked.save(update_fields=["status", "next_attempt_at", "retry_until"])
    from ..tasks.webhooks import webhook_deliver_task

    enqueue_on_commit(webhook_deliver_task, locked.pk)
    return locked


# --- The HTTP client ------------------------------------------------------------------------------------

_clients: dict[int, object] = {}
_clients_lock = threading.Lock()


def _client():
    """One guarded client per process (its pool keeps connections to receivers alive between deliveries)."""
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        with _clients_lock:
            client = _clients.get(pid)
            if client is None:
                client = _clients[pid] = egress.guarded_httpx_client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    return client
