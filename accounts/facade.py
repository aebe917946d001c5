"""What other apps may ask of accounts."""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.models import EmailAddress
from django.db import transaction

from .emails import email_verification_send
from .models import Role, User
from .roles import MANAGER_ROLES


@transaction.atomic
def user_create_owner(*, email: str, password_hash: str, name: str = "", verified: bool = False) -> User:
    """The first person of a new workspace: owner role, Django admin access for this schema."""
    user = User(email=email.lower(), name=name, role=Role.OWNER, is_staff=True)
    user.password = password_hash
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


@transaction.atomic
def platform_staff_ensure(*, email: str, password: str, name: str = "") -> bool:
    """A platform superuser in the current (public) schema, able to sign in; True if created.

    Their address is marked verified: allauth's sign-in (which the platform admin uses, for its lockout and
    two-factor step) asks for a verified address, and the operator who runs this chose it.
    """
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_superuser(email, password, name=name)
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"primary": True, "verified": True})
    return created


def owner_send_verification(*, user: User) -> None:
    """Emails a new workspace's owner the link that confirms their address, on the workspace's configured domain.

    For Celery tasks (no request): call it inside the workspace's schema, e.g. right after `user_create_owner`.
    The email leaves when the surrounding transaction commits; an already verified address gets nothing.
    """
    email_verification_send(user=user)


def manager_emails() -> list[str]:
    """Addresses of the people who run this workspace (active owners and admins), for operational notices."""
    return list(
        User.objects.filter(is_active=True, role__in=MANAGER_ROLES).order_by("email").values_list("email", flat=True)
    )


def capability_emails(capability: str, *, roles: list[str] | None = None) -> list[str]:
    """Addresses of the active people who hold `capability` (only those of `roles`, when given), e.g. the people an
    insights alert goes to."""
    from .roles import roles_with

    allowed = [role for role in roles_with(capability) if roles is None or role in roles]
    return list(User.objects.filter(is_active=True, role__in=allowed).order_by("email").values_list("email", flat=True))


def user_names(ids: Iterable[int]) -> dict[int, str]:
    """Display names (the name, else the email) of these users, active or not: figures keep naming who did them."""
    rows = User.objects.filter(pk__in=list(ids)).values_list("pk", "name", "email")
    return {pk: name or email for pk, name, email in rows}


def capability_people(capability: str) -> dict[int, str]:
    """The active people who hold `capability`, id → display name, by name (e.g. a filter's list of sellers)."""
    from .roles import roles_with

    rows = User.objects.filter(is_active=True, role__in=roles_with(capability)).order_by("name", "email")
    return {pk: name or email for pk, name, email in rows.values_list("pk", "name", "email")}


def capability_contacts(capability: str, *, roles: list[str] | None = None) -> list[tuple[int, str, str]]:
    """(id, display name, email) of the active people who hold `capability` (only those of `roles`, when given), by
    name: e.g. who a note may @mention, who an insights alert goes to."""
    from .roles import roles_with

    allowed = [role for role in roles_with(capability) if roles is None or role in roles]
    rows = User.objects.filter(is_active=True, role__in=allowed).order_by("name", "email")
    return [(pk, name or email, email) for pk, name, email in rows.values_list("pk", "name", "email")]
