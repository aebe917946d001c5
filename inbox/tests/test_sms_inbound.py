"""Texts customers send to a Twilio number: signed webhooks, one ticket per conversation, MessageSid deduplication,
MMS media kept, STOP/START respected. Requests are signed with the SDK's RequestValidator, as Twilio signs them."""

from __future__ import annotations

import pytest

from helpdesk.models import Ticket, TicketMessage
from inbox.models import SmsMessage, SmsOptOut
from inbox.tests.factories import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, SmsNumberFactory
from inbox.tests.fakes.twilio import CUSTOMER, INBOUND, png_bytes, post_signed, twilio_fake_running, twilio_params

pytestmark = pytest.mark.django_db


@pytest.fixture
def twilio(settings, tmp_path):
    with twilio_fake_running(settings, tmp_path, account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def number():
    return SmsNumberFactory(phone_number="+14155550100")


def receive(client, django_capture_on_commit_callbacks, params: dict, **options):
    with django_capture_on_commit_callbacks(execute=True):
        return post_signed(client, params, **options)


def test_an_incoming_text_opens_an_sms_ticket_for_the_sender(client, number, django_capture_on_commit_callbacks):
    response = receive(client, django_capture_on_commit_callbacks, twilio_params("My router blinks red since Monday"))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert b"<Response />" in response.content
    message = SmsMessage.objects.get()
    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert (ticket.channel, ticket.subject) == ("sms", "My router blinks red since Monday")
    assert ticket.original_description == "My router blinks red since Monday"
    assert (ticket.requester.phone, ticket.requester.email) == (CUSTOMER, "")
    assert (message.direction, message.from_number, message.number) == ("inbound", CUSTOMER, number)


def test_a_later_text_lands_on_the_same_ticket_from_a_known_contact(client, number, django_capture_on_commit_callbacks):
    from customers.tests.factories import ContactFactory

    known = ContactFactory(phone="+1 (415) 555-0123")
    receive(client, django_capture_on_commit_callbacks, twilio_params("Router broken"))
    receive(client, django_capture_on_commit_callbacks, twilio_params("Still broken, any news?"))

    ticket = Ticket.objects.get()
    assert ticket.requester == known
    reply = TicketMessage.objects.get(ticket=ticket, body="Still broken, any news?")
    assert (reply.channel, reply.author_contact) == ("sms", known)
    assert reply.external_id == SmsMessage.objects.get(body="Still broken, any news?").message_sid


def test_the_same_message_sid_twice_is_filed_once(client, number, django_capture_on_commit_callbacks):
    params = twilio_params("Hello, anyone there?")

    first = receive(client, django_capture_on_commit_callbacks, params)
    retried = receive(client, django_capture_on_commit_callbacks, params)

    assert first.status_code == retried.status_code == 200
    assert SmsMessage.objects.count() == 1 and Ticket.objects.count() == 1
    assert TicketMessage.objects.filter(external_id=params["MessageSid"]).count() <= 1


def test_a_duplicate_racing_past_the_lookup_is_stopped_by_the_unique_constraint(number, monkeypatch):
    """Two deliveries of one webhook at once: both find nothing, the second insert fails, only one is filed."""
    from inbox.services import sms

    params = twilio_params("Hello twice")
    first, created = sms.sms_receive(number=number, params=params)
    monkeypatch.setattr(sms, "_received_before", lambda sid: None)  # the other request had not committed yet

    again, created_again = sms.sms_receive(number=number, params=params)

    assert created and not created_again and again.pk == first.pk
    assert SmsMessage.objects.filter(message_sid=params["MessageSid"]).count() == 1


def test_a_wrong_signature_is_refused_with_403_and_nothing_is_stored(client, number):
    forged = post_signed(client, twilio_params("Please reset my password"), token="not-the-auth-token")
    unsigned = client.post(INBOUND, twilio_params("Please reset my password"))

    assert forged.status_code == unsigned.status_code == 403
    assert "X-Twilio-Signature header does not match" in forged.content.decode()
    assert "http://alpha.localhost/inbox/sms/twilio/inbound/" in forged.content.decode()
    assert SmsMessage.objects.count() == 0 and Ticket.objects.count() == 0


def test_a_text_to_a_number_not_connected_here_is_refused(client, number):
    response = post_signed(client, twilio_params("Hello", to="+19995550100"))

    assert response.status_code == 403 and SmsMessage.objects.count() == 0


def test_the_signature_is_checked_against_the_configured_public_url(client, number, settings):
    """Behind a TLS proxy Django sees http; Twilio signed the https URL it called, which configuration names."""
    settings.SWITCHBOARD_URL_SCHEME = "https"
    params = twilio_params("Hello over https")

    assert post_signed(client, params).status_code == 403  # signed for http://…, which Twilio never called
    accepted = post_signed(client, params, url="https://alpha.localhost/inbox/sms/twilio/inbound/")
    assert accepted.status_code == 200


def test_an_mms_image_is_kept_as_an_attachment(client, number, twilio, django_capture_on_commit_callbacks):
    image = png_bytes()
    media_url = twilio.media_add(image, "image/png")

    receive(
        client,
        django_capture_on_commit_callbacks,
        twilio_params("Photo of the error", media=[(media_url, "image/png")]),
    )

    ticket = Ticket.objects.get()
    attachment = ticket.messages.get().attachments.get()
    with attachment.file.open("rb") as stored:
        assert stored.read() == image
    assert (attachment.filename, attachment.content_type) == ("mms-1.png", "image/png")
    first_hop, storage = twilio.requests[-2:]
    assert first_hop.auth_ok and "/Media/ME" in first_hop.path
    assert storage.path.startswith("/media-storage/") and "authorization" not in storage.headers


def test_media_that_cannot_be_fetched_is_named_on_the_ticket(
    client, number, twilio, django_capture_on_commit_callbacks
):
    missing = twilio.media_add(b"", "image/png").replace("/Media/ME", "/Media/MEgone")

    receive(client, django_capture_on_commit_callbacks, twilio_params("See picture", media=[(missing, "image/png")]))

    assert "Attachment 1 could not be downloaded" in Ticket.objects.get().original_description


def test_stop_opts_the_sender_out_and_start_opts_them_back_in(client, number, django_capture_on_commit_callbacks):
    receive(client, django_capture_on_commit_callbacks, twilio_params("Need help with my bill"))
    receive(client, django_capture_on_commit_callbacks, twilio_params(" stop "))

    opt_out = SmsOptOut.objects.get(phone_number=CUSTOMER)
    assert opt_out.active and opt_out.keyword == "STOP"
    assert Ticket.objects.count() == 1  # STOP is shown on the conversation's ticket, never opens one
    assert TicketMessage.objects.filter(body="stop").exists()

    receive(client, django_capture_on_commit_callbacks, twilio_params("UNSTOP"))

    opt_out.refresh_from_db()
    assert not opt_out.active and opt_out.opted_in_at is not None


@pytest.mark.parametrize("keyword", ["STOPALL", "unsubscribe", "Cancel", "END", "quit"])
def test_every_twilio_opt_out_keyword_counts(client, number, django_capture_on_commit_callbacks, keyword):
    receive(client, django_capture_on_commit_callbacks, twilio_params(keyword))

    assert SmsOptOut.objects.get(phone_number=CUSTOMER).active
    assert Ticket.objects.count() == 0


def test_a_sentence_containing_stop_is_an_ordinary_message(client, number, django_capture_on_commit_callbacks):
    receive(client, django_capture_on_commit_callbacks, twilio_params("Please stop charging my card twice"))

    assert not SmsOptOut.objects.exists() and Ticket.objects.count() == 1


def test_stop_on_a_solved_conversation_does_not_reopen_it(client, number, django_capture_on_commit_callbacks):
    receive(client, django_capture_on_commit_callbacks, twilio_params("Thanks, all good now"))
    Ticket.objects.update(status="solved")

    receive(client, django_capture_on_commit_callbacks, twilio_params("STOP"))

    assert Ticket.objects.get().status == "solved" and SmsOptOut.objects.get().active
