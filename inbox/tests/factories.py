"""Test data for the inbox: mailboxes and received messages."""

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from core import crypto
from inbox.models import ApiIdempotencyKey, InboundEmail, Mailbox, WebhookDelivery, WebhookSubscription
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
