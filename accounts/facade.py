"""What other apps may ask of accounts."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from .models import Role, User


@transaction.atomic
def user_create_owner(*, email: str, password_hash: str, name: str = "", verified: bool = False) -> User:
    """The first person of a new workspace: owner role, Django admin access for this schema."""
    user = User(email=email.lower(), name=name, role=Role.OWNER, is_staff=True)
    user.password = password_hash
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user
