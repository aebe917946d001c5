"""Reads about people: the Team page's members and open invitations."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.db.models import Exists, OuterRef, QuerySet

from .models import Invitation, User


def member_list() -> QuerySet[User]:
    """Everyone in the workspace, active first, with whether they protect their account with 2FA."""
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    return User.objects.annotate(mfa_enabled=Exists(totp)).order_by("-is_active", "name", "email")


def member_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def invitation_list_open() -> QuerySet[Invitation]:
    """Invitations nobody has used or revoked yet, expired ones included so they can be resent."""
    return (
        Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created")
    )


def invitation_get(*, invitation_id: int) -> Invitation | None:
    return Invitation.objects.filter(pk=invitation_id).first()


def api_token_get(*, user: User):
    """The user's API token row (the page shows only when it was created, never the key again), or None."""
    return apps.get_model("authtoken", "Token").objects.filter(user=user).first()
