"""Test data for the inbox: mailboxes, received messages, emails sent, texts, chat widgets and conversations."""

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from core import crypto
from inbox.models import (
    ApiIdempotencyKey,
    ChatConversation,
    ChatWidget,
    InboundEmail,
    Mailbox,
    OutboundEmail,
    SmsMessage,
    SmsNumber,
    SmsOptOut,
    WebhookDelivery,
    WebhookSubscription,
)
from inbox.models.chat import token_hash
from inbox.models.mail import message_id_key
from inbox.models.webhooks import SECRET_PURPOSE as WEBHOOK_SECRET_PURPOSE


class MailboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f"Support {n}")
    kind = Mailbox.Kind.IMAP
    address = factory.Sequence(lambda n: f"support{n}@workspace.test")
    settings = factory.LazyFunction(lambda: {"host": "127.0.0.1", "port": 993, "username": "support"})


def raw_email(*, message_id: str = "<m1@customer.test>", sender: str = "ann@customer.test", subject: str = "Hello",
              body: str = "The printer is on fire.") -> bytes:  # fmt: skip
    return (
        f"From: Ann <{sender}>\r\nTo: support@workspace.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Mon, 07 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


class InboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundEmail

    mailbox = factory.SubFactory(MailboxFactory)
    source = InboundEmail.Source.IMAP
    message_id = factory.Sequence(lambda n: f"<factory-{n}@customer.test>")
    message_key = factory.LazyAttribute(lambda inbound: message_id_key(inbound.message_id))
    raw = factory.LazyAttribute(lambda inbound: ContentFile(raw_email(message_id=inbound.message_id), name="m.eml"))
    size = 200
    sender = "ann@customer.test"
    subject = "Hello"


# --- sms ---

TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"


class SmsNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmsNumber

    phone_number = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    account_sid = TWILIO_ACCOUNT_SID
    auth_token_encrypted = factory.LazyFunction(lambda: _encrypted_token())


def _encrypted_token() -> str:
    number = SmsNumber()
    number.auth_token_set(TWILIO_AUTH_TOKEN)
    return number.auth_token_encrypted


class SmsMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmsMessage

    number = factory.SubFactory(SmsNumberFactory)
    direction = SmsMessage.Direction.INBOUND
    message_sid = factory.Sequence(lambda n: f"SM{n:032x}")
    from_number = "+14155550199"
    to_number = factory.LazyAttribute(lambda message: message.number.phone_number)
    body = "Hello"
    status = "received"


class SmsOptOutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmsOptOut

    phone_number = factory.Sequence(lambda n: f"+1212555{n % 10000:04d}")
    keyword = "STOP"


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    ticket_id = factory.Sequence(lambda n: n + 1)
    kind = OutboundEmail.Kind.REPLY
    mailbox = factory.SubFactory(MailboxFactory)
    from_address = "Ann Agent via Support <support@workspace.test>"
    to = factory.LazyFunction(lambda: ["ann@customer.test"])
    subject = factory.Sequence(lambda n: f"[#{n + 1}] Hello")
    body = "Hello **Ann**"
    message_id = factory.Sequence(lambda n: f"<sb-{n}@workspace.test>")


class ChatWidgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatWidget

    enabled = True
    allowed_origins = factory.LazyFunction(lambda: ["https://shop.example.com"])


class ChatConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatConversation

    widget = factory.SubFactory(ChatWidgetFactory)
    token_hash = factory.Sequence(lambda n: token_hash(f"factory-token-{n}"))
    name = "Vera Visitor"
    email = factory.Sequence(lambda n: f"visitor{n}@customer.test")
    origin = "https://shop.example.com"


# --- webhooks ---


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/switchboard")
    events = factory.LazyFunction(lambda: ["ticket.created", "ticket.updated"])
    secret_encrypted = factory.LazyFunction(lambda: crypto.encrypt("whsec_test", purpose=WEBHOOK_SECRET_PURPOSE))


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = "ticket.created"
    ticket_id = 1
    body = '{"event":"ticket.created"}'


class ApiIdempotencyKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiIdempotencyKey

    key = factory.Sequence(lambda n: f"key-{n}")
    request_hash = "0" * 64
    response_status = 201
    response_body = factory.LazyFunction(lambda: {"ticket_id": 1})
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))
