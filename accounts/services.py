"""Every write about people: invitations, roles, deactivation and personal API tokens.

Rules about who may do what to whom live here (not in views), so the Team page, the workspace admin and the
API all enforce the same ones. Views check the capability first; these functions check the finer rules
(admins never touch owners, the last owner stays an owner, nobody deactivates themselves).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import templated_email_send, workspace_name
from core.links import workspace_url

from .models import Invitation, Role, User
from .roles import MANAGER_ROLES, role_can, roles_assignable_by

INVITATION_LIFETIME = timedelta(days=7)
# A second "resend" within this window is almost always a double click, and it would invalidate the first link.
INVITATION_RESEND_COOLDOWN = timedelta(minutes=1)


class InvitationInvalid(Exception):
    """The link cannot be used; `reason` is one of unknown, expired, revoked, accepted, member."""

    MESSAGES = {
        "unknown": "This invitation link is not valid. Check that you copied the whole link from the email.",
        "expired": "This invitation has expired. Ask the person who invited you to send a new one.",
        "revoked": "This invitation was withdrawn. Ask an admin of the workspace if you still need access.",
        "accepted": "This invitation has already been used. Sign in with the email address it was sent to.",
        "member": "There is already an account for this email address in this workspace. Sign in instead.",
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(self.MESSAGES[reason])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Invitations --------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, email: str, role: str, invited_by: User) -> Invitation:
    """Invites `email` with `role` and emails them an accept link on this workspace."""
    email = email.strip().lower()
    _check_can_invite(actor=invited_by, role=role)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": [f"{email} is already a member of this workspace."]})
    existing = Invitation.objects.select_for_update().filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    for invitation in existing:
        if invitation.is_pending:
            raise ValidationError(
                {"email": [f"{email} already has a pending invitation. Use “Resend” in the list instead."]}
            )
        # An expired link is superseded by the new one (the open-invitation constraint allows only one).
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        invited_by=invited_by,
        token_hash=token_hash(token),
        created=now,
        last_sent=now,
        expires=now + INVITATION_LIFETIME,
    )
    _send_invitation_on_commit(invitation, token=token)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User) -> Invitation:
    """A fresh link (the old one stops working, since only its hash was kept) and another 7 days."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _check_can_invite(actor=actor, role=invitation.role)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(f"The invitation for {invitation.email} is no longer open.")
    now = timezone.now()
    if invitation.last_sent > now - INVITATION_RESEND_COOLDOWN:
        raise ValidationError(f"An invitation was sent to {invitation.email} less than a minute ago.")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires = now + INVITATION_LIFETIME
    invitation.last_sent = now
    invitation.sent_count += 1
    invitation.save(update_fields=["token_hash", "expires", "last_sent", "sent_count"])
    _send_invitation_on_commit(invitation, token=token)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not role_can(actor.role, "team.invite"):
        raise PermissionDenied("Your role does not allow managing invitations.")
    if invitation.accepted_at:
        raise ValidationError(f"{invitation.email} has already joined; deactivate the member instead.")
    if not invitation.revoked_at:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_check(*, token: str) -> Invitation:
    """The open invitation for `token`, or InvitationInvalid saying why it cannot be used."""
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    _raise_if_unusable(invitation)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, name: str, password: str) -> User:
    """Creates the invited person with a verified email and the invited role; the link then stops working."""
    invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    _raise_if_unusable(invitation)
    name = name.strip()
    candidate = User(email=invitation.email, name=name, role=invitation.role)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Tell your teammates who you are."]
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(
        invitation.email, password, name=name, role=invitation.role, is_staff=invitation.role in MANAGER_ROLES
    )
    # The invitation reached this inbox, which is exactly what verification proves.
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    return user


def _raise_if_unusable(invitation: Invitation | None) -> None:
    if invitation is None:
        raise InvitationInvalid("unknown")
    if invitation.accepted_at:
        raise InvitationInvalid("accepted")
    if invitation.revoked_at:
        raise InvitationInvalid("revoked")
    if invitation.is_expired:
        raise InvitationInvalid("expired")
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationInvalid("member")


def _check_can_invite(*, actor: User, role: str) -> None:
    if not role_can(actor.role, "team.invite"):
        raise PermissionDenied("Your role does not allow inviting people.")
    if role not in Role.values:
        raise ValidationError({"role": [f"“{role}” is not a role."]})
    if role not in roles_assignable_by(actor):
        raise ValidationError({"role": ["Only an owner can invite another owner."]})


def _send_invitation_on_commit(invitation: Invitation, *, token: str) -> None:
    url = workspace_url(reverse("accounts:invitation_accept", args=[token]))
    context = {
        "invitation": invitation,
        "accept_url": url,
        "workspace_name": workspace_name(),
        "inviter": invitation.invited_by,
        "expires": invitation.expires,
    }
    # Sent only once the invitation row exists for good: a rolled-back invite must not leave a live-looking email.
    transaction.on_commit(lambda: templated_email_send("accounts/email/invitation", invitation.email, context))


# --- Members: roles and deactivation ------------------------------------------------------------


def active_owner_count() -> int:
    return User.objects.filter(role=Role.OWNER, is_active=True).count()


def _check_can_manage(*, actor: User, target: User) -> None:
    if not role_can(actor.role, "team.manage"):
        raise PermissionDenied("Your role does not allow managing teammates.")
    if target.role == Role.OWNER and not role_can(actor.role, "workspace.owner"):
        raise ValidationError("Only an owner can change another owner.")


def _check_not_last_owner(target: User, action: str) -> None:
    if target.role == Role.OWNER and target.is_active and active_owner_count() <= 1:
        raise ValidationError(f"{target} is the last owner; make someone else an owner before you {action}.")


def user_role_change_check(*, user: User, role: str, actor: User) -> None:
    """Raises ValidationError (or PermissionDenied) if `actor` may not give `user` the role `role`.

    `user` is the saved state (its current role); shared by the Team page and the workspace admin.
    """
    _check_can_manage(actor=actor, target=user)
    if role not in Role.values:
        raise ValidationError(f"“{role}” is not a role.")
    if role == user.role:
        return
    if role not in roles_assignable_by(actor):
        raise ValidationError("Only an owner can make someone an owner.")
    if role != Role.OWNER:
        _check_not_last_owner(user, "change their role")


def user_deactivate_check(*, user: User, actor: User) -> None:
    if user.pk == actor.pk:
        raise ValidationError("You cannot deactivate yourself; ask another admin or owner.")
    _check_can_manage(actor=actor, target=user)
    _check_not_last_owner(user, "deactivate them")


def user_reactivate_check(*, user: User, actor: User) -> None:
    _check_can_manage(actor=actor, target=user)


def _lock_member_and_owners(user: User) -> User:
    # Owners are locked too, so two owners demoting each other at once cannot leave the workspace ownerless.
    list(User.objects.select_for_update().filter(role=Role.OWNER).only("pk"))
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def user_set_role(*, user: User, role: str, actor: User) -> User:
    """Changes `user`'s role; owners and admins also get (and lose) the workspace admin with it."""
    user = _lock_member_and_owners(user)
    user_role_change_check(user=user, role=role, actor=actor)
    if role == user.role:
        return user
    user.role = role
    user.is_staff = role in MANAGER_ROLES
    user.save(update_fields=["role", "is_staff"])
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> User:
    """Signs the person out everywhere (sessions of inactive users no longer authenticate) and drops their token."""
    user = _lock_member_and_owners(user)
    user_deactivate_check(user=user, actor=actor)
    user.is_active = False
    user.save(update_fields=["is_active"])
    _token_model().objects.filter(user=user).delete()
    return user


@transaction.atomic
def user_reactivate(*, user: User, actor: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    user_reactivate_check(user=user, actor=actor)
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


# --- Personal API tokens ------------------------------------------------------------------------


def _token_model():
    # DRF's token table is plain data; looked up through the app registry so services stay free of DRF imports.
    return apps.get_model("authtoken", "Token")


@transaction.atomic
def api_token_create(*, user: User):
    """Replaces the user's token with a new one. The caller shows `token.key` once; it is not shown again."""
    if not role_can(user.role, "api.use") or not user.is_active:
        raise PermissionDenied("Your role does not allow using the API.")
    token_model = _token_model()
    token_model.objects.filter(user=user).delete()
    return token_model.objects.create(user=user)


def api_token_revoke(*, user: User) -> bool:
    deleted, _ = _token_model().objects.filter(user=user).delete()
    return bool(deleted)
