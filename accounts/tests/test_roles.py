"""Role rules: capabilities per role, who may change whose role, the last owner, deactivation."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.models import Role, User
from accounts.roles import CAPABILITIES, role_can, roles_assignable_by
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_existing_capability_names_are_kept_for_other_apps():
    for role in Role.values:
        assert role_can(role, "customers.view")
    assert role_can(Role.AGENT, "customers.edit") and not role_can(Role.VIEWER, "customers.edit")
    assert role_can(Role.ADMIN, "customers.delete") and not role_can(Role.SALES, "customers.delete")


def test_only_owners_and_admins_run_the_team():
    for capability in ("team.view", "team.invite", "team.manage", "workspace.admin"):
        assert {role for role, caps in CAPABILITIES.items() if capability in caps} == {Role.OWNER, Role.ADMIN}
    assert {role for role, caps in CAPABILITIES.items() if "workspace.owner" in caps} == {Role.OWNER}


def test_owners_assign_every_role_admins_all_but_owner_others_none():
    assert roles_assignable_by(User(role=Role.OWNER)) == Role.values
    assert Role.OWNER not in roles_assignable_by(User(role=Role.ADMIN))
    assert roles_assignable_by(User(role=Role.AGENT)) == []


def test_owner_promotes_an_agent_to_admin_which_grants_the_workspace_admin():
    owner, agent = UserFactory(role=Role.OWNER), UserFactory(role=Role.AGENT)
    services.user_set_role(user=agent, role=Role.ADMIN, actor=owner)
    agent.refresh_from_db()
    assert (agent.role, agent.is_staff) == (Role.ADMIN, True)
    services.user_set_role(user=agent, role=Role.VIEWER, actor=owner)
    agent.refresh_from_db()
    assert (agent.role, agent.is_staff) == (Role.VIEWER, False)


def test_admins_cannot_create_owners():
    admin, agent = UserFactory(role=Role.ADMIN), UserFactory(role=Role.AGENT)
    with pytest.raises(ValidationError, match="Only an owner can make someone an owner"):
        services.user_set_role(user=agent, role=Role.OWNER, actor=admin)
    assert User.objects.get(pk=agent.pk).role == Role.AGENT


def test_admins_cannot_change_or_deactivate_owners():
    admin, owner = UserFactory(role=Role.ADMIN), UserFactory(role=Role.OWNER)
    with pytest.raises(ValidationError, match="Only an owner can change another owner"):
        services.user_set_role(user=owner, role=Role.AGENT, actor=admin)
    with pytest.raises(ValidationError, match="Only an owner"):
        services.user_deactivate(user=owner, actor=admin)


def test_the_last_owner_cannot_be_demoted_or_deactivated():
    me = UserFactory(role=Role.OWNER)
    # The workspace's first owner (created with it) is demoted first, leaving `me` as the only one.
    for other in User.objects.filter(role=Role.OWNER).exclude(pk=me.pk):
        services.user_set_role(user=other, role=Role.ADMIN, actor=me)
    with pytest.raises(ValidationError, match="last owner"):
        services.user_set_role(user=me, role=Role.ADMIN, actor=me)
    assert User.objects.get(pk=me.pk).role == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains():
    me, other = UserFactory(role=Role.OWNER), UserFactory(role=Role.OWNER)
    services.user_set_role(user=me, role=Role.ADMIN, actor=me)
    assert User.objects.get(pk=me.pk).role == Role.ADMIN
    assert other.role == Role.OWNER


def test_members_without_team_manage_cannot_change_roles():
    with pytest.raises(PermissionDenied):
        services.user_set_role(user=UserFactory(), role=Role.VIEWER, actor=UserFactory(role=Role.SALES))


def test_unknown_roles_are_refused():
    with pytest.raises(ValidationError, match="not a role"):
        services.user_set_role(user=UserFactory(), role="superhero", actor=UserFactory(role=Role.OWNER))


def test_deactivation_drops_the_api_token_and_nobody_deactivates_themselves():
    owner, agent = UserFactory(role=Role.OWNER), UserFactory(role=Role.AGENT)
    services.api_token_create(user=agent)
    services.user_deactivate(user=agent, actor=owner)
    agent.refresh_from_db()
    assert not agent.is_active
    assert not Token.objects.filter(user=agent).exists()
    with pytest.raises(ValidationError, match="yourself"):
        services.user_deactivate(user=owner, actor=owner)
    services.user_reactivate(user=agent, actor=owner)
    assert User.objects.get(pk=agent.pk).is_active
