"""Demo inbox for a workspace: its support address (forwarded mail), a few customer emails filed through the real
pipeline (a new request, a reply threaded onto it by its references, an out-of-office that is filed but not
acknowledged), and the chat widget switched on for the local site.

`seed_inbox` is what `manage.py seed_demo` calls; idempotent (nothing is added to a workspace that has a mailbox).
No external service is needed: forwarding needs no credentials, and nothing here is sent anywhere by itself.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from django.utils import timezone

from customers.facade import contact_queryset

from .models import InboundEmail, Mailbox
from .services import chat
from .services.inbound import inbound_process, inbound_receive

LOCAL_ORIGINS = ["http://localhost:8000", "http://127.0.0.1:8000"]


def _email(*, sender: str, subject: str, body: str, message_id: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@{domain}"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(timezone.now())
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def seed_inbox(*, slug: str) -> str:
    if Mailbox.objects.exists():
        return "inbox exists"
    domain = f"{slug}.test"
    mailbox = Mailbox.objects.create(
        name="Support",
        kind=Mailbox.Kind.FORWARD,
        address=f"support@{domain}",
        display_name=f"{slug.title()} Support",
        is_default=True,
    )
    # From the workspace's own demo customers when it has some, so the emails join their companies' history.
    known = [f"{c.name} <{c.email}>" for c in contact_queryset().exclude(email="").order_by("id")[:2]]
    vat_sender, ooo_sender = [*known, "Dana Whitfield <dana@initech.test>", "Rui Costa <rui@umbrella.test>"][:2]
    emails = [
        _email(
            sender=vat_sender,
            subject="Invoice shows the wrong VAT number",
            body="Hello,\n\nour last invoice shows an old VAT number. Could you send a corrected one?\n\nThanks,\nDana",
            message_id=f"<demo-vat-1@initech.test.{slug}>",
        ),
        _email(
            sender=vat_sender,
            subject="Re: Invoice shows the wrong VAT number",
            body="The correct number is DE 123 456 789.\n\nOn Monday Dana wrote:\n> our last invoice shows an old VAT",
            message_id=f"<demo-vat-2@initech.test.{slug}>",
            In_Reply_To=f"<demo-vat-1@initech.test.{slug}>",
            References=f"<demo-vat-1@initech.test.{slug}>",
        ),
        _email(
            sender=ooo_sender,
            subject="Automatic reply: your ticket",
            body="I am out of the office until Monday with limited access to email.",
            message_id=f"<demo-ooo-1@umbrella.test.{slug}>",
            Auto_Submitted="auto-replied",
        ),
    ]
    for raw in emails:
        inbound, _ = inbound_receive(raw=raw.replace(b"{domain}", domain.encode()), source="webhook", mailbox=mailbox)
        inbound_process(inbound.pk)
    widget = chat.widget_ensure()
    chat.widget_update(widget=widget, enabled=True, allowed_origins=LOCAL_ORIGINS)
    filed = InboundEmail.objects.filter(status=InboundEmail.Status.IMPORTED).count()
    return f"support@{domain} (forwarding), {filed} emails filed, chat widget on for localhost"
