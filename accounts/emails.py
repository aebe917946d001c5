"""Account emails that are sent without a request: invitations and the new owner's verification link.

allauth builds its links from the current request. Provisioning runs in Celery and invitations are sent
after commit, so links here are built from a known workspace host and the configured scheme instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress, EmailConfirmation
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import User


@dataclass(frozen=True)
class WorkspaceSite:
    """What allauth's email templates call `current_site`, for emails sent without a request."""

    name: str
    domain: str


def workspace_name() -> str:
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "name", "") or "Switchboard"


def workspace_url(host: str, path: str) -> str:
    """Absolute link on a workspace host; the scheme is configured, never guessed."""
    return f"{settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL}://{host}{path}"


def templated_email_send(prefix: str, to: str, context: dict) -> None:
    """Sends `<prefix>_subject.txt`, `<prefix>_message.txt` and its HTML twin `<prefix>_message.html`."""
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    message = EmailMultiAlternatives(subject, render_to_string(f"{prefix}_message.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{prefix}_message.html", context), "text/html")
    message.send()


@transaction.atomic
def email_verification_send(*, user: User, host: str) -> EmailConfirmation | None:
    """Emails `user` a link on `host` that confirms their primary address; None if it is already verified.

    Uses allauth's stored confirmation (looked up per schema, so a key from one workspace is useless in
    another) and allauth's own email template and adapter, so it reads like every other account email.
    """
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        address = EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    if address.verified:
        return None
    confirmation = EmailConfirmation.create(address)
    confirmation.sent = timezone.now()
    confirmation.save(update_fields=["sent"])
    context = {
        "user": user,
        "key": confirmation.key,
        "activate_url": workspace_url(host, reverse("account_confirm_email", args=[confirmation.key])),
        "current_site": WorkspaceSite(name=workspace_name(), domain=host),
        "workspace_name": workspace_name(),
    }
    to = address.email
    transaction.on_commit(
        lambda: get_adapter().render_mail("account/email/email_confirmation_signup", to, context).send()
    )
    return confirmation
