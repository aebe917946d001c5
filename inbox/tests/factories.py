"""Test data for the inbox: mailboxes, received messages, chat widgets and conversations."""

import factory
from django.core.files.base import ContentFile

from inbox.models import ChatConversation, ChatDeflection, ChatWidget, InboundEmail, Mailbox
from inbox.models.chat import token_hash
from inbox.models.mail import message_id_key


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


class ChatDeflectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatDeflection

    widget = factory.SubFactory(ChatWidgetFactory)
    query = "How do I reset my password?"
    article_ids = factory.LazyFunction(lambda: [1])
    helped = True
