"""SMS and Web Push deliveries: through the inbox's Twilio sending (against the Twilio fake) and through pywebpush
(against a local push service that checks the VAPID JWT and decrypts the aes128gcm body), with retries."""

from __future__ import annotations

import pytest

from inbox.tests.factories import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, SmsNumberFactory
from inbox.tests.fakes.twilio import twilio_fake_running
from notifications import push, services
from notifications.models import Delivery, PushSubscription
from notifications.tests.conftest import TEST_EVENT
from notifications.tests.fakes.push_service import PushServiceFake

pytestmark = pytest.mark.django_db
CONTEXT = {"thing": {"name": "Boiler"}}
MOBILE = "+4915112345678"


@pytest.fixture
def twilio(settings, tmp_path):
    with twilio_fake_running(settings, tmp_path, account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def push_service():
    with PushServiceFake() as fake:
        yield fake


def _only(user, channel: str) -> None:
    services.preferences_save(
        user_id=user.pk,
        choices={(TEST_EVENT, channel): True, (TEST_EVENT, "in_app"): True, (TEST_EVENT, "email"): False},
    )


def test_sms_is_sent_through_the_workspaces_twilio_number(make_user, twilio, fan_out):
    number = SmsNumberFactory()
    ann = make_user()
    _only(ann, "sms")
    services.delivery_settings_save(user_id=ann.pk, phone=MOBILE)
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT, link="/tickets/")
    (sent,) = twilio.sent()
    assert sent.form["To"] == MOBILE and sent.form["From"] == number.phone_number
    assert sent.form["Body"].startswith("Boiler happened http")
    delivery = Delivery.objects.get(user=ann, channel="sms")
    assert delivery.status == "sent" and delivery.answer.startswith("SM")


def test_sms_is_retried_after_twilio_says_too_many_requests(make_user, twilio, fan_out):
    SmsNumberFactory()
    ann = make_user()
    _only(ann, "sms")
    services.delivery_settings_save(user_id=ann.pk, phone=MOBILE)
    twilio.enqueue_error(20429)
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    delivery = Delivery.objects.get(user=ann, channel="sms")
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    services.deliveries_due_send(now=delivery.not_before)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_sms_without_a_connected_number_fails_at_once(make_user, twilio, fan_out):
    ann = make_user()
    _only(ann, "sms")
    services.delivery_settings_save(user_id=ann.pk, phone=MOBILE)
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    delivery = Delivery.objects.get(user=ann, channel="sms")
    assert delivery.status == "failed" and "No SMS number" in delivery.last_error


def _subscribe(user, push_service, name="b1"):
    endpoint, browser = push_service.subscribe(name)
    services.push_subscription_save(user=user, endpoint=endpoint, p256dh=browser.p256dh, auth=push.b64(browser.auth))
    return browser


def test_push_is_encrypted_and_signed_for_each_browser(make_user, push_service, fan_out):
    ann = make_user()
    _only(ann, "push")
    _subscribe(ann, push_service, "laptop")
    _subscribe(ann, push_service, "phone")
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT, link="/tickets/")
    assert push_service.rejected == []
    assert sorted(item.path for item in push_service.received) == ["/push/laptop", "/push/phone"]
    payload = push_service.received[0].payload
    assert payload == {"title": "Boiler happened", "body": "The Boiler happened.", "url": "/tickets/"}
    assert push_service.received[0].vapid_key == push.application_server_key()
    assert Delivery.objects.get(user=ann, channel="push").status == "sent"


def test_a_gone_subscription_is_forgotten(make_user, push_service, fan_out):
    ann = make_user()
    _only(ann, "push")
    _subscribe(ann, push_service)
    push_service.answers = [410]
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    assert not PushSubscription.objects.filter(user=ann).exists()
    assert Delivery.objects.get(user=ann, channel="push").status == "failed"


def test_push_is_retried_when_the_service_is_unavailable(make_user, push_service, fan_out):
    ann = make_user()
    _only(ann, "push")
    _subscribe(ann, push_service)
    push_service.answers = [503]
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    delivery = Delivery.objects.get(user=ann, channel="push")
    assert delivery.status == "queued" and "503" in delivery.last_error
    services.deliveries_due_send(now=delivery.not_before)
    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(push_service.received) == 1


def test_push_goes_through_the_egress_guard(make_user, push_service, fan_out, settings):
    settings.EGRESS_ALLOW_LOOPBACK = False
    ann = make_user()
    _only(ann, "push")
    _subscribe(ann, push_service)
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    delivery = Delivery.objects.get(user=ann, channel="push")
    assert push_service.received == [] and delivery.status != "sent"
    assert "Egress" in delivery.last_error or "refused" in delivery.last_error.lower()


def test_the_vapid_key_is_made_once_and_kept(settings, tmp_path):
    settings.NOTIFICATIONS_VAPID_KEY_FILE = str(tmp_path / "vapid.pem")
    push.vapid.cache_clear()
    first = push.application_server_key()
    push.vapid.cache_clear()
    assert push.application_server_key() == first
    assert (tmp_path / "vapid.pem").read_bytes().startswith(b"-----BEGIN")
