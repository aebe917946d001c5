"""The demo team: one person per role plus extra agents, able to sign in with the demo password."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings

from accounts.demo import seed_team
from accounts.models import Role, User
from accounts.tests.conftest import is_signed_in, password_login

pytestmark = pytest.mark.django_db


def test_seed_team_creates_one_verified_person_per_role_and_is_idempotent(client):
    team = seed_team(email_domain="demo.example")
    assert {team[role].role for role in Role.values} == set(Role.values)
    assert sum(user.role == Role.AGENT for user in team.values()) >= 3
    assert all(user.name and " " in user.name for user in team.values())
    assert {user.email for user in team.values() if user.is_staff} == {"owner@demo.example", "admin@demo.example"}
    assert all(EmailAddress.objects.get(user=user).verified for user in team.values())

    again = seed_team(email_domain="demo.example")
    assert {key: user.pk for key, user in again.items()} == {key: user.pk for key, user in team.items()}
    assert User.objects.filter(email__endswith="@demo.example").count() == len(team)

    password_login(client, "agent@demo.example", settings.DEMO_PASSWORD)
    assert is_signed_in(client)
