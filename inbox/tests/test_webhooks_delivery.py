"""Outbound webhooks: one signed delivery per subscription that wants the event, sent to a real local endpoint;
failures retried with growing delays for a day; redelivery with the same body and id; auto-disable after 50
failures in a row with an email to the managers; the egress guard's refusals in words."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.egress import EgressPolicy, EgressRefused, check_url
from helpdesk.contracts import TicketEventPayload
from inbox.models import WebhookDelivery, WebhookSubscription
from inbox.services import webhooks
from inbox.tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db


def event(name: str = "ticket.created", ticket_id: int = 42) -> TicketEventPayload:
    return TicketEventPayload(
        event=name,
        ticket_id=ticket_id,
        occurred_at=timezone.now(),
        ticket={"id": ticket_id, "subject": "Printer on fire", "status": "new"},
    )


def subscribe(url: str, events=("ticket.created",), **fields) -> tuple[WebhookSubscription, str]:
    return webhooks.webhook_subscription_create(url=url, events=events, **fields)


def dispatch(payload: TicketEventPayload, django_capture_on_commit_callbacks) -> list[WebhookDelivery]:
    with django_capture_on_commit_callbacks(execute=True):
        return webhooks.webhook_event_dispatch(payload)


# --- Subscriptions ---------------------------------------------------------------------------------------


def test_the_secret_is_returned_once_and_stored_encrypted():
    subscription, secret = subscribe("https://hooks.example.com/in")
    subscription.refresh_from_db()
    assert secret.startswith("whsec_") and secret not in subscription.secret_encrypted
    assert subscription.secret() == secret
    assert webhooks.webhook_secret_rotate(subscription=subscription) != secret


def test_a_url_in_a_private_network_is_refused_with_a_clear_message(settings):
    settings.EGRESS_ALLOW_LOOPBACK, settings.EGRESS_REQUIRE_HTTPS = False, True
    with pytest.raises(ValidationError) as refused:
        subscribe("https://10.0.0.5/hooks")
    assert "private network" in refused.value.message_dict["url"][0]
    with pytest.raises(ValidationError) as loopback:
        subscribe("https://127.0.0.1:8443/hooks")
    assert "loopback" in loopback.value.message_dict["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_plain_http_is_refused_outside_tests(settings):
    settings.EGRESS_REQUIRE_HTTPS = True
    with pytest.raises(ValidationError) as refused:
        subscribe("http://hooks.example.com/in")
    assert "https://" in refused.value.message_dict["url"][0]


def test_events_must_be_known_ones():
    with pytest.raises(ValidationError) as refused:
        subscribe("https://hooks.example.com/in", events=["ticket.exploded"])
    assert "events" in refused.value.message_dict


# --- Dispatch and sending --------------------------------------------------------------------------------


def test_an_event_makes_one_delivery_per_enabled_subscription_that_wants_it(django_capture_on_commit_callbacks):
    with webhook_receiver() as receiver:
        wanted, secret = subscribe(receiver.url, events=["ticket.created", "ticket.solved"])
        receiver.secret = secret
        subscribe(receiver.url, events=["ticket.solved"])  # not this event
        _off, _ = subscribe(receiver.url, enabled=False)
        deliveries = dispatch(event("ticket.created"), django_capture_on_commit_callbacks)
        assert [delivery.subscription_id for delivery in deliveries] == [wanted.pk]
        [received] = receiver.wait_for(1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 1
    assert delivery.response_status == 200 and delivery.response_excerpt == '{"ok":true}'
    assert delivery.latency_ms is not None
    assert received.signature_ok
    assert received.headers["X-Switchboard-Event"] == "ticket.created"
    assert received.headers["X-Switchboard-Delivery"] == str(delivery.delivery_id)
    body = received.json
    assert body["id"] == str(delivery.delivery_id) and body["event"] == "ticket.created"
    assert body["workspace"] == "alpha" and body["data"]["ticket"]["subject"] == "Printer on fire"


def test_a_wrong_secret_does_not_verify():
    body = b'{"a":1}'
    header = webhooks.signature_header("right", body, int(timezone.now().timestamp()))
    assert webhooks.signature_valid("right", body, header)
    assert not webhooks.signature_valid("wrong", body, header)
    assert not webhooks.signature_valid("right", body + b" ", header)
    old = webhooks.signature_header("right", body, int(timezone.now().timestamp()) - 301)
    assert not webhooks.signature_valid("right", body, old)


def test_failures_are_retried_with_growing_delays_and_fail_after_a_day(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(webhooks.random, "random", lambda: 0.0)  # no jitter: the schedule itself
    with webhook_receiver() as receiver:
        receiver.status, receiver.answer = 503, b"<h1>down</h1>\x00\x07 for maintenance"
        subscription, receiver.secret = subscribe(receiver.url)
        [delivery] = dispatch(event(), django_capture_on_commit_callbacks)  # the first attempt, at once
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.RETRYING and delivery.attempts == 1
        assert delivery.response_status == 503 and delivery.response_excerpt == "<h1>down</h1> for maintenance"
        assert "HTTP 503" in delivery.error
        delays = []
        now = delivery.last_attempt_at
        while delivery.status == WebhookDelivery.Status.RETRYING:
            delays.append(round((delivery.next_attempt_at - now).total_seconds() / 60))
            now = delivery.next_attempt_at
            assert webhooks.webhook_deliver(delivery.pk, now=now - timedelta(seconds=1)).attempts == delivery.attempts
            delivery = webhooks.webhook_deliver(delivery.pk, now=now)  # not early; at its time
        assert len(receiver.requests) == delivery.attempts
    assert delays[:7] == [1, 2, 4, 8, 16, 32, 60] and set(delays[7:]) == {60}
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.next_attempt_at is None
    assert delivery.last_attempt_at - delivery.created <= webhooks.RETRY_FOR
    assert delivery.last_attempt_at + timedelta(hours=1) > delivery.created + webhooks.RETRY_FOR
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == delivery.attempts and subscription.enabled


def test_retry_delay_doubles_from_a_minute_up_to_an_hour_with_jitter_that_only_shortens():
    assert [webhooks.retry_delay(n, rand=lambda: 0.0).total_seconds() for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert webhooks.retry_delay(1, rand=lambda: 1.0).total_seconds() == 48
    assert webhooks.retry_delay(3, rand=lambda: 0.5).total_seconds() == 216


def test_the_sweep_queues_only_due_deliveries(django_capture_on_commit_callbacks):
    with webhook_receiver() as receiver:
        subscription, receiver.secret = subscribe(receiver.url)
        now = timezone.now()
        due = WebhookDelivery.objects.create(
            subscription=subscription,
            event="ticket.created",
            body="{}",
            status="retrying",
            next_attempt_at=now,
            retry_until=now + timedelta(hours=1),
        )
        WebhookDelivery.objects.create(
            subscription=subscription,
            event="ticket.created",
            body="{}",
            status="retrying",
            next_attempt_at=now + timedelta(minutes=5),
            retry_until=now + timedelta(hours=1),
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.webhook_retry_due(now=now) == 1
        receiver.wait_for(1)
    assert receiver.requests[0].headers["X-Switchboard-Delivery"] == str(due.delivery_id)
    due.refresh_from_db()
    assert due.status == WebhookDelivery.Status.DELIVERED


def test_redeliver_sends_the_same_body_and_delivery_id_again(django_capture_on_commit_callbacks):
    with webhook_receiver() as receiver:
        _subscription, receiver.secret = subscribe(receiver.url)
        [delivery] = dispatch(event(), django_capture_on_commit_callbacks)
        receiver.wait_for(1)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_redeliver(delivery=delivery)
        first, again = receiver.wait_for(2)
    assert again.body == first.body and again.signature_ok
    assert again.headers["X-Switchboard-Delivery"] == first.headers["X-Switchboard-Delivery"]
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 2


def test_a_success_resets_the_failure_count(django_capture_on_commit_callbacks):
    with webhook_receiver() as receiver:
        subscription, receiver.secret = subscribe(receiver.url)
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=49)
        dispatch(event(), django_capture_on_commit_callbacks)
        receiver.wait_for(1)
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.enabled


def test_fifty_failures_in_a_row_turn_the_subscription_off_and_email_the_managers(
    django_capture_on_commit_callbacks, make_user
):
    admin = make_user("admin", email="boss@alpha.test")
    make_user("agent", email="agent@alpha.test")
    with webhook_receiver() as receiver:
        receiver.status = 500
        subscription, receiver.secret = subscribe(receiver.url, description="CRM sync")
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=48)
        dispatch(event(ticket_id=1), django_capture_on_commit_callbacks)  # failure 49
        subscription.refresh_from_db()
        assert subscription.enabled and not mail.outbox
        waiting = WebhookDelivery.objects.get()
        dispatch(event(ticket_id=2), django_capture_on_commit_callbacks)  # failure 50
        receiver.wait_for(2)
    subscription.refresh_from_db()
    assert not subscription.enabled and subscription.consecutive_failures == 50
    assert "50 failed deliveries in a row" in subscription.disabled_reason
    waiting.refresh_from_db()
    assert waiting.status == WebhookDelivery.Status.FAILED  # its retries would go nowhere
    [email] = mail.outbox
    assert admin.email in email.to and "agent@alpha.test" not in email.to
    assert "turned off" in email.subject and subscription.url in email.body
    assert dispatch(event(), django_capture_on_commit_callbacks) == []  # no new deliveries while off


def test_a_destination_the_guard_refuses_at_send_time_is_a_failed_attempt_in_words(
    settings, django_capture_on_commit_callbacks
):
    _subscription, _ = subscribe("http://127.0.0.1:9/hooks")
    settings.EGRESS_ALLOW_LOOPBACK = False  # the policy changed since the URL was saved
    [delivery] = dispatch(event(), django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.error.startswith("Refused by the egress guard:") and "loopback" in delivery.error
    assert delivery.response_status is None


def test_the_guard_refuses_private_addresses_in_production_policy():
    """As core/tests/test_egress.py does: the policy itself, not the test settings."""
    strict = EgressPolicy(require_https=True, allow_loopback=False, allowed_networks=())
    for url in ("https://192.168.1.10/hook", "https://[::1]/hook", "https://169.254.169.254/latest"):
        with pytest.raises(EgressRefused) as refused:
            check_url(url, policy=strict)
        assert "address points" in str(refused.value)


def test_a_deleted_subscription_takes_its_log_with_it():
    subscription, _ = subscribe("https://hooks.example.com/in")
    WebhookDelivery.objects.create(subscription=subscription, event="ticket.created", body=json.dumps({}))
    webhooks.webhook_subscription_delete(subscription=subscription)
    assert not WebhookDelivery.objects.exists()
