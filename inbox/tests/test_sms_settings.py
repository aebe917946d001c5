"""Settings → Channels → SMS: owners and admins connect a Twilio number (E.164, credentials kept encrypted and never
shown again), see the webhook URLs to paste into Twilio, and test the credentials against (the fake) Twilio."""

from __future__ import annotations

import pytest

from inbox.models import SmsNumber
from inbox.tests.factories import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, SmsNumberFactory
from inbox.tests.fakes.twilio import twilio_fake_running

pytestmark = pytest.mark.django_db

PAGE = "/settings/channels/sms/"


@pytest.fixture
def twilio(settings, tmp_path):
    with twilio_fake_running(settings, tmp_path, account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN) as fake:
        yield fake


def connect(client, **fields):
    data = {"phone_number": "+1 415 555 0100", "account_sid": TWILIO_ACCOUNT_SID, "auth_token": TWILIO_AUTH_TOKEN}
    return client.post(f"{PAGE}new/", data | fields)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_an_admin_connects_a_number_and_sees_the_webhook_urls(client, login, role):
    login(role)

    response = connect(client, enabled="on")

    assert response.status_code == 302
    number = SmsNumber.objects.get()
    assert (number.phone_number, number.enabled) == ("+14155550100", True)
    assert number.auth_token() == TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN not in number.auth_token_encrypted
    page = client.get(PAGE).content.decode()
    assert "+14155550100" in page and TWILIO_AUTH_TOKEN not in page
    assert "http://alpha.localhost/inbox/sms/twilio/inbound/" in page
    assert "http://alpha.localhost/inbox/sms/twilio/status/" in page


def test_the_edit_form_never_shows_the_token_and_an_empty_one_keeps_it(client, login):
    login("admin")
    number = SmsNumberFactory()

    form = client.get(f"{PAGE}{number.pk}/edit/").content.decode()
    client.post(f"{PAGE}{number.pk}/edit/", {"account_sid": TWILIO_ACCOUNT_SID, "auth_token": ""})

    number.refresh_from_db()
    assert TWILIO_AUTH_TOKEN not in form and number.auth_token() == TWILIO_AUTH_TOKEN
    assert not number.enabled  # the switch was left off


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"phone_number": "415 555 0100"}, "E.164"),
        ({"phone_number": "+0415"}, "E.164"),
        ({"account_sid": "SK123"}, "starts with AC"),
        ({"messaging_service_sid": "AB123"}, "starts with MG"),
        ({"auth_token": ""}, "This field is required"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason(client, login, fields, error):
    login("admin")

    response = connect(client, **fields)

    assert response.status_code == 200 and error in response.content.decode()
    assert not SmsNumber.objects.exists()


def test_a_number_cannot_be_connected_twice(client, login):
    login("admin")
    SmsNumberFactory(phone_number="+14155550100")

    assert "already connected" in connect(client).content.decode()


def test_test_credentials_fetches_the_account_through_the_sdk(client, login, twilio):
    login("admin")
    number = SmsNumberFactory()

    response = client.post(f"{PAGE}{number.pk}/test/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sms-number-table")

    number.refresh_from_db()
    assert number.last_check_ok and "Acme Support" in number.last_check_detail
    assert "Acme Support" in response.content.decode()
    (fetch,) = twilio.requests
    assert fetch.path == f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}.json" and fetch.auth_ok


def test_test_credentials_reports_a_wrong_token(client, login, twilio):
    login("admin")
    number = SmsNumberFactory()
    number.auth_token_set("an-old-token")
    number.save()

    client.post(f"{PAGE}{number.pk}/test/")

    number.refresh_from_db()
    assert number.last_check_ok is False and "refused the Account SID and auth token" in number.last_check_detail


def test_test_credentials_reports_twilio_out_of_reach(client, login):
    login("admin")
    number = SmsNumberFactory()

    client.post(f"{PAGE}{number.pk}/test/")

    number.refresh_from_db()
    assert number.last_check_ok is False and number.last_check_detail == "Twilio could not be reached."


def test_disconnecting_a_number_keeps_its_messages(client, login):
    from inbox.models import SmsMessage
    from inbox.tests.factories import SmsMessageFactory

    login("admin")
    message = SmsMessageFactory()

    response = client.post(f"{PAGE}{message.number_id}/delete/")

    assert response.status_code == 302 and not SmsNumber.objects.exists()
    assert SmsMessage.objects.get().number is None


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_cannot_change_sms_settings(client, login, role):
    login(role)

    assert client.get(PAGE).status_code == 403
    assert connect(client).status_code == 403 and not SmsNumber.objects.exists()
