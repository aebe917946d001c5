"""What other packages may use of the inbox: the ASGI wiring of the chat visitor's websocket (config/asgi.py), and
business email (a quote to a customer, with its PDF) sent through the same outbound pipeline as ticket mail."""

from __future__ import annotations

from collections.abc import Sequence

from .contracts import EmailAttachment, EmailDelivery, SmsNoticeError

# Services are imported inside each function: config/asgi.py imports this module before Django's apps are ready.

__all__ = [
    "EmailAttachment",
    "EmailDelivery",
    "SmsNoticeError",
    "chat_socket_router",
    "email_addresses_parse",
    "email_queue",
    "email_statuses",
    "sms_notice_send",
    "sms_queue",
    "webhook_choices",
    "webhook_send",
]


def chat_socket_router(default):
    """An ASGI app sending the chat widget's visitor socket (/ws/chat/) to the inbox, every other socket to
    `default`."""
    from .routing import ChatSocketRouter

    return ChatSocketRouter(default)


def email_queue(
    *,
    to: Sequence[str] | str,
    subject: str,
    body: str,
    reference: str,
    kind: str = "quote",
    cc: Sequence[str] | str = (),
    author_name: str = "",
    reply_to: str = "",
    attachments: Sequence[EmailAttachment | tuple[str, str, bytes]] = (),
) -> int:
    """Queues a business email in the caller's transaction and returns its id: sent after the commit by a worker
    (the workspace's default mailbox, else the platform's address), with a text and an HTML part (`body` is plain
    text; links become clickable), retried on deferral, its bounces recorded. `reference` ("quote:12:2") is how
    `email_statuses` finds it again. ValidationError (keyed "to", "cc") for an address that is not one."""
    from .services.business_email import business_email_queue

    files = [item if isinstance(item, EmailAttachment) else EmailAttachment(*item) for item in attachments]
    outbound = business_email_queue(
        to=to, cc=cc, subject=subject, body=body, kind=kind, reference=reference, author_name=author_name,
        reply_to=reply_to, attachments=files,
    )  # fmt: skip
    return outbound.pk


def email_statuses(reference: str) -> list[EmailDelivery]:
    """The business emails sent under `reference` or under it ("quote:12" finds "quote:12:1" and "quote:12:2"),
    newest first."""
    from .services.business_email import business_email_deliveries

    return business_email_deliveries(reference_prefix=reference)


def email_addresses_parse(text: str | Sequence[str], *, field: str = "to") -> list[str]:
    """The addresses in "a@x.test, Ann <b@y.test>", checked as `email_queue` will (ValidationError keyed `field`)."""
    from .services.business_email import addresses_parse

    return addresses_parse(text, field=field)


def sms_queue(*, to: str, body: str, ticket_id: int | None = None) -> list[int]:
    """Queues a text (Markdown made plain) to `to` from the workspace's first enabled Twilio number, sent after the
    commit with the replies' retries and opt-out checks. ValidationError (keyed "to") without a number or for a
    number not in E.164 form."""
    from .services.sms import sms_text_queue

    return sms_text_queue(to=to, body=body, ticket_id=ticket_id)


def webhook_choices() -> list[tuple[int, str]]:
    """(id, label) of the workspace's enabled outbound webhooks (Settings → Channels → Webhooks)."""
    from .services.webhooks import webhook_subscription_choices

    return webhook_subscription_choices()


def webhook_send(*, subscription_id: int, event: str, data: dict, ticket_id: int | None = None) -> int:
    """Queues one signed delivery of `event` with `data` to the webhook `subscription_id` (sent through the egress
    guard, retried like every delivery); returns the delivery's id. ValidationError when it is gone or off."""
    from .services.webhooks import webhook_custom_send

    return webhook_custom_send(subscription_id=subscription_id, event=event, data=data, ticket_id=ticket_id).pk


def sms_notice_send(*, to: str, body: str) -> str:
    """Texts a short notice to a teammate's mobile (E.164) from the workspace's first enabled SMS number, now; returns
    Twilio's answer ("SM… queued"). SmsNoticeError (with `retryable`) when it was not sent. Used by notifications."""
    from .services.sms import sms_notice_send as send

    return send(to=to, body=body)
