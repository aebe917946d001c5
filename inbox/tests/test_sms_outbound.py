"""Agents' replies on SMS tickets go out through the twilio SDK (against the local fake of Twilio's REST API), with
retries on 429, opt-outs respected, and Twilio's signed status callbacks shown on the message."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from twilio.request_validator import RequestValidator

from helpdesk.models import TicketMessage
from helpdesk.services.tickets import message_add
from inbox.models import SmsMessage, SmsOptOut
from inbox.services.sms_twilio import markdown_to_sms
from inbox.tests.factories import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, SmsNumberFactory
from inbox.tests.fakes.twilio import CUSTOMER, post_signed, twilio_fake_running, twilio_params

pytestmark = pytest.mark.django_db

OUR_NUMBER = "+14155550100"


@pytest.fixture
def twilio(settings, tmp_path):
    with twilio_fake_running(settings, tmp_path, account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def conversation(client, django_capture_on_commit_callbacks):
    """A customer texted the workspace's number: the SMS ticket."""
    SmsNumberFactory(phone_number=OUR_NUMBER)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, twilio_params("My order never arrived")).status_code == 200
    return SmsMessage.objects.get().ticket_id


@pytest.fixture
def reply(conversation, make_user, django_capture_on_commit_callbacks):
    """`reply(text)`: an agent answers publicly on the SMS ticket (delivery runs as it would after commit)."""
    from helpdesk.models import Ticket

    agent = make_user("agent")

    def send(text: str) -> TicketMessage:
        with django_capture_on_commit_callbacks(execute=True):
            message = message_add(ticket=Ticket.objects.get(pk=conversation), actor=agent, body=text)
        message.refresh_from_db()
        return message

    return send


def test_an_agent_reply_is_sent_as_a_text_through_twilio(twilio, reply):
    message = reply("Sorry about that! **Tracking**: see [the carrier](https://track.example.com/42).")

    (sent,) = twilio.sent()
    assert sent.form["To"] == CUSTOMER and sent.form["From"] == OUR_NUMBER
    assert sent.form["Body"] == "Sorry about that! Tracking: see the carrier (https://track.example.com/42)."
    outbound = SmsMessage.objects.get(direction="outbound")
    assert urlsplit(sent.form["StatusCallback"]).path == "/inbox/sms/twilio/status/"
    assert f"m={outbound.pk}" in sent.form["StatusCallback"]
    assert outbound.message_sid.startswith("SM") and outbound.ticket_message_id == message.pk
    assert message.external_id == outbound.message_sid
    assert message.delivery_status == "queued"


def test_a_messaging_service_sends_when_one_is_set(twilio, reply):
    SmsMessage.objects.get().number.__class__.objects.update(messaging_service_sid="MG" + "1" * 32)

    reply("On its way.")

    assert twilio.sent()[0].form["MessagingServiceSid"] == "MG" + "1" * 32


def status_callback(client, outbound: SmsMessage, status: str, **extra: str):
    url = f"http://alpha.localhost/inbox/sms/twilio/status/?m={outbound.pk}"
    params = {
        "SmsSid": outbound.message_sid, "SmsStatus": status, "MessageStatus": status, "To": outbound.to_number,
        "MessageSid": outbound.message_sid, "AccountSid": TWILIO_ACCOUNT_SID, "From": outbound.from_number,
        "ApiVersion": "2010-04-01", **extra,
    }  # fmt: skip
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, params)
    return client.post(f"/inbox/sms/twilio/status/?m={outbound.pk}", params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_the_status_callback_marks_the_reply_delivered(client, twilio, reply):
    message = reply("Your parcel arrives tomorrow.")
    outbound = SmsMessage.objects.get(direction="outbound")

    assert status_callback(client, outbound, "sent").status_code == 204
    assert status_callback(client, outbound, "delivered").status_code == 204
    assert status_callback(client, outbound, "sent").status_code == 204  # late: never moves it back

    message.refresh_from_db()
    outbound.refresh_from_db()
    assert (outbound.status, message.delivery_status) == ("delivered", "delivered")


def test_an_undelivered_reply_shows_twilio_s_error(client, twilio, reply):
    message = reply("Your parcel arrives tomorrow.")
    outbound = SmsMessage.objects.get(direction="outbound")

    status_callback(client, outbound, "undelivered", ErrorCode="30003", ErrorMessage="Unreachable destination handset")

    message.refresh_from_db()
    assert message.delivery_status == "failed"
    assert "Unreachable destination handset" in message.delivery_detail and "30003" in message.delivery_detail


def test_a_status_callback_with_a_bad_signature_changes_nothing(client, twilio, reply):
    message = reply("Your parcel arrives tomorrow.")
    outbound = SmsMessage.objects.get(direction="outbound")

    response = client.post(
        f"/inbox/sms/twilio/status/?m={outbound.pk}",
        {"MessageSid": outbound.message_sid, "MessageStatus": "delivered"},
        HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl",
    )

    message.refresh_from_db()
    assert response.status_code == 403 and message.delivery_status == "queued"


@pytest.fixture
def retries_run_inline(monkeypatch):
    """Celery runs an eager task's retry at once (no countdown), unless eager errors propagate: they must not here,
    so the task's own `self.retry()` is what runs again."""
    from celery import current_app

    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)


def test_a_rate_limited_send_is_retried(twilio, reply, retries_run_inline):
    twilio.enqueue_error(20429)
    twilio.enqueue_error(20500)

    message = reply("Thanks for your patience.")

    attempts = [r for r in twilio.requests if r.path.endswith("/Messages.json")]
    assert len(attempts) == 3 and len(twilio.messages) == 1
    assert message.delivery_status == "queued"
    assert SmsMessage.objects.get(direction="outbound").message_sid in twilio.messages


def test_a_send_that_stays_rate_limited_fails_with_the_reason(twilio, reply, retries_run_inline):
    for _ in range(7):
        twilio.enqueue_error(20429)

    message = reply("Thanks for your patience.")

    assert message.delivery_status == "failed" and "429" in message.delivery_detail
    assert "Gave up" in message.delivery_detail and not twilio.messages


def test_stop_then_reply_is_not_sent_and_the_agent_sees_why(client, twilio, reply, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, twilio_params("STOP"))

    message = reply("Did that help?")

    assert twilio.sent() == []
    assert message.delivery_status == "failed" and "The customer replied STOP" in message.delivery_detail
    assert SmsMessage.objects.get(direction="outbound").status == "opted_out"


def test_start_re_enables_replies(client, twilio, reply, django_capture_on_commit_callbacks):
    for word in ("STOP", "START"):
        with django_capture_on_commit_callbacks(execute=True):
            post_signed(client, twilio_params(word))

    message = reply("Welcome back!")

    assert len(twilio.sent()) == 1 and message.delivery_status == "queued"


def test_twilio_refusing_an_unsubscribed_recipient_is_shown_as_stop(twilio, reply):
    twilio.unsubscribed.add(CUSTOMER)  # opted out through another of the account's numbers

    message = reply("Any update?")

    assert message.delivery_status == "failed" and "The customer replied STOP" in message.delivery_detail
    assert SmsOptOut.objects.get(phone_number=CUSTOMER).active


def test_an_invalid_number_fails_with_twilio_s_message(twilio, reply):
    SmsMessage.objects.update(from_number="+1")  # a sender Twilio cannot text back

    message = reply("Hello?")

    assert message.delivery_status == "failed"
    assert "not a valid phone number" in message.delivery_detail and "21211" in message.delivery_detail


def test_an_internal_note_is_not_texted(twilio, conversation, make_user, django_capture_on_commit_callbacks):
    from helpdesk.models import Ticket

    with django_capture_on_commit_callbacks(execute=True):
        message_add(ticket=Ticket.objects.get(pk=conversation), actor=make_user("agent"), body="note", kind="note")

    assert twilio.sent() == []


def test_markdown_becomes_plain_text_for_a_phone():
    text = "# Steps\n\n1. Unplug it\n2. Wait *ten* seconds\n\n- `reset`\n- [Guide](https://x.test/g)\n\nThanks!"

    assert markdown_to_sms(text) == (
        "Steps\n\n1. Unplug it\n2. Wait ten seconds\n\n- reset\n- Guide (https://x.test/g)\n\nThanks!"
    )


def test_a_reply_longer_than_twilio_takes_goes_as_numbered_texts(client, twilio, reply):
    paragraphs = [f"Step {n}: " + "check the cable and the power supply once more. " * 8 for n in range(1, 8)]

    message = reply("\n\n".join(paragraphs))

    bodies = [request.form["Body"] for request in twilio.sent()]
    assert len(bodies) == 2 and all(len(body) <= 1600 for body in bodies)
    assert bodies[0].startswith("(1/2) Step 1:") and bodies[1].startswith("(2/2) Step ")
    first, second = SmsMessage.objects.filter(direction="outbound").order_by("id")
    assert message.external_id == first.message_sid
    status_callback(client, first, "delivered")
    message.refresh_from_db()
    assert message.delivery_status == "queued"  # the second text is not delivered yet
    status_callback(client, second, "delivered")
    message.refresh_from_db()
    assert message.delivery_status == "delivered" and "2 texts" in message.delivery_detail
