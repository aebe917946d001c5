"""allauth hooks: in a workspace nobody signs up on their own; emails and 2FA entries carry the workspace's name.

Links in allauth's emails (password reset, email confirmation) are built from configuration (core.links), never
from the request's Host header, which whoever sends the request chooses.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.urls import reverse
from django.utils.encoding import force_str

from core.client_ip import client_ip
from core.links import workspace_url

from .emails import workspace_name, workspace_site


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Workspaces are created on the public site's sign-up page; teammates arrive by invitation.
        return False

    def get_client_ip(self, request) -> str:
        # Login lockout counts per address with the same rule as every other limit of the product.
        return client_ip(request)

    def format_email_subject(self, subject: str) -> str:
        # allauth would prefix the host name ("[acme.localhost]"); people recognise the workspace's name.
        prefix = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        if prefix is None:
            prefix = f"[{workspace_name()}] "
        return prefix + force_str(subject)

    def get_reset_password_from_key_url(self, key: str) -> str:
        # allauth's own path, with "UID-KEY" standing for the opaque key (as allauth builds it).
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return workspace_url(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return workspace_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # allauth reads the request from a context variable that is empty in on-commit callbacks run after
        # the response (and in tasks); fall back to the request this adapter was made for, then to no request.
        request = allauth_context.request or self.request
        # `current_site` (the domain emails name) is the workspace's configured one, not the request's Host.
        ctx = {"request": request, "email": email, "current_site": workspace_site(), "workspace_name": workspace_name()}
        ctx.update(context)
        self.render_mail(template_prefix, email, ctx).send()


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self) -> str:
        # Someone in two workspaces gets two entries in their authenticator app; the name tells them apart.
        return f"{settings.MFA_TOTP_ISSUER} ({workspace_name()})"
