"""Sending one delivery on its channel: email (the platform's SMTP), SMS (the inbox's Twilio numbers) and Web Push.
Each returns the other side's answer; PermanentFailure means retrying cannot help."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from core.emails import workspace_name
from core.links import workspace_url

from .contracts import EMAIL, PUSH, SMS


class PermanentFailure(Exception):
    pass


def send(delivery) -> str:
    if delivery.channel == EMAIL:
        return email_send(delivery)
    if delivery.channel == SMS:
        return sms_send(delivery)
    if delivery.channel == PUSH:
        from .push import push_send

        return push_send(delivery)
    raise PermanentFailure(f"Nothing sends on channel {delivery.channel!r}.")


def _link(delivery) -> str:
    return workspace_url(delivery.link) if delivery.link else ""


def email_send(delivery) -> str:
    user = delivery.user
    if not user.email:
        raise PermanentFailure("The person has no email address.")
    context = {
        "subject": delivery.title,
        "body": delivery.body,
        "link": _link(delivery),
        "workspace": workspace_name(),
        "preferences_url": workspace_url("/notifications/preferences/"),
    }
    message = EmailMultiAlternatives(
        delivery.title,
        render_to_string("notifications/email/notice_message.txt", context),
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated", "X-Switchboard-Event": delivery.event},
    )
    message.attach_alternative(render_to_string("notifications/email/notice_message.html", context), "text/html")
    message.send()
    return f"accepted for {user.email}"


def digest_send(user, deliveries: Sequence) -> str:
    if not user.email:
        raise PermanentFailure("The person has no email address.")
    items = [
        {"title": item.title, "body": item.body, "link": _link(item), "created": item.created} for item in deliveries
    ]
    context = {
        "items": items,
        "workspace": workspace_name(),
        "preferences_url": workspace_url("/notifications/preferences/"),
        "centre_url": workspace_url("/notifications/"),
    }
    subject = f"{len(items)} notification{'s' if len(items) != 1 else ''} from {workspace_name()}"
    message = EmailMultiAlternatives(
        subject,
        render_to_string("notifications/email/digest_message.txt", context),
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("notifications/email/digest_message.html", context), "text/html")
    message.send()
    return f"{len(items)} in one email to {user.email}"


def sms_send(delivery) -> str:
    from inbox import facade as inbox

    from .preferences import settings_for

    phone = settings_for([delivery.user_id])[delivery.user_id].phone
    if not phone:
        raise PermanentFailure("No mobile number in preferences.")
    text = delivery.body or delivery.title
    try:
        return inbox.sms_notice_send(to=phone, body=text)
    except inbox.SmsNoticeError as error:
        if error.retryable:
            raise
        raise PermanentFailure(str(error)) from error
