"""Account emails that are sent without a request: invitations and the new owner's verification link.

Links are built from configuration (core.links: the workspace's domain, SWITCHBOARD_URL_SCHEME and _PORT), never
from a request's Host header; provisioning runs in Celery and invitations are sent after commit anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress, EmailConfirmation
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import workspace_name
from core.links import workspace_url

from .models import User


@dataclass(frozen=True)
class WorkspaceSite:
    """What allauth's email templates call `current_site`, for emails sent without a request."""

    name: str
    domain: str


def workspace_site() -> WorkspaceSite:
    """The current workspace as allauth's templates name it, on its configured domain."""
    return WorkspaceSite(name=workspace_name(), domain=urlsplit(workspace_url()).netloc)


@transaction.atomic
def email_verification_send(*, user: User) -> EmailConfirmation | None:
    """Emails `user` a link on this workspace that confirms their primary address; None if it is already verified.

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
        "activate_url": workspace_url(reverse("account_confirm_email", args=[confirmation.key])),
        "current_site": workspace_site(),
        "workspace_name": workspace_name(),
    }
    to = address.email
    transaction.on_commit(
        lambda: get_adapter().render_mail("account/email/email_confirmation_signup", to, context).send()
    )
    return confirmation
