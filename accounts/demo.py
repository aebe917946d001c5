"""Demo people for a workspace: one per role plus a few more agents, all able to sign in at once."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from .models import Role, User
from .roles import MANAGER_ROLES

# (local part of the address, name, role)
DEMO_TEAM: list[tuple[str, str, str]] = [
    ("owner", "Olivia Bennett", Role.OWNER),
    ("admin", "Arjun Mehta", Role.ADMIN),
    ("agent", "Grace Okafor", Role.AGENT),
    ("sales", "Samuel Ortiz", Role.SALES),
    ("viewer", "Vera Lindqvist", Role.VIEWER),
    ("marcus", "Marcus Chen", Role.AGENT),
    ("lena", "Lena Fischer", Role.AGENT),
    ("tomas", "Tomás Rivera", Role.AGENT),
    # More agents, so the demo helpdesk's three teams are staffed.
    ("priya", "Priya Nair", Role.AGENT),
    ("jonas", "Jonas Weber", Role.AGENT),
    ("amara", "Amara Diallo", Role.AGENT),
    ("kenji", "Kenji Sato", Role.AGENT),
]


@transaction.atomic
def seed_team(*, email_domain: str) -> dict[str, User]:
    """Creates (or brings back to shape) the demo team; keys are the address's local part ("owner", "agent"...).

    Idempotent: running it again changes nothing, and a password someone already set is kept.
    """
    team: dict[str, User] = {}
    password_hash = make_password(settings.DEMO_PASSWORD)  # hashing is slow on purpose: once, not per person
    for local_part, name, role in DEMO_TEAM:
        email = f"{local_part}@{email_domain}".lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User(email=email, password=password_hash)
        user.name = user.name or name
        user.role = role
        user.is_staff = role in MANAGER_ROLES
        user.is_active = True
        user.save()
        EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"primary": True, "verified": True})
        team[local_part] = user
    return team
