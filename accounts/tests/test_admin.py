"""The workspace's Django admin (owners/admins, workspace models only) and the platform admin (public staff)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation, Role, User
from accounts.tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff(role: str) -> User:
    return UserFactory(role=role, is_staff=role in {Role.OWNER, Role.ADMIN})


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_see_only_this_workspaces_models(client, role):
    client.force_login(staff(role))
    response = client.get(reverse("workspace_admin:index"))
    assert response.status_code == 200
    apps = {app["app_label"] for app in response.context["app_list"]}
    tenant_labels = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    assert apps <= tenant_labels
    assert not apps & {"tenants", "auth", "django_celery_beat", "authtoken"}
    models = {model["object_name"] for app in response.context["app_list"] for model in app["models"]}
    assert {"User", "Invitation"} <= models


@pytest.mark.parametrize("role", [Role.AGENT, Role.SALES, Role.VIEWER])
def test_other_roles_are_kept_out_even_with_the_staff_flag(client, role):
    client.force_login(UserFactory(role=role, is_staff=True))
    response = client.get(reverse("workspace_admin:index"))
    assert response.status_code == 302
    assert client.get(reverse("workspace_admin:login")).status_code == 403
    assert client.get(reverse("workspace_admin:accounts_user_changelist")).status_code != 200


def test_an_owner_without_the_staff_flag_is_kept_out(client):
    client.force_login(UserFactory(role=Role.OWNER, is_staff=False))
    assert client.get(reverse("workspace_admin:index")).status_code == 302


def test_anonymous_visitors_sign_in_through_allauth_not_the_admin_form(client):
    response = client.get(reverse("workspace_admin:index"), follow=True)
    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith(reverse("account_login") + "?next=")
    assert "/admin/" in final_url


def test_the_user_form_has_no_superuser_flag_and_no_add_or_delete(client):
    client.force_login(staff(Role.OWNER))
    agent = UserFactory()
    html = client.get(reverse("workspace_admin:accounts_user_change", args=[agent.pk])).content.decode()
    assert 'name="role"' in html and 'name="is_active"' in html and 'name="is_staff"' in html
    assert "is_superuser" not in html and 'name="password"' not in html
    assert client.get(reverse("workspace_admin:accounts_user_add")).status_code == 403
    assert client.get(reverse("workspace_admin:accounts_user_delete", args=[agent.pk])).status_code == 403


def change(client: Client, user: User, **fields):
    data = {"name": user.name, "role": user.role, "is_active": "on" if user.is_active else "", "is_staff": ""}
    data.update(fields)
    return client.post(reverse("workspace_admin:accounts_user_change", args=[user.pk]), data)


def test_owner_changes_a_role_in_the_admin_and_staff_follows(client):
    client.force_login(staff(Role.OWNER))
    agent = UserFactory()
    assert change(client, agent, role=Role.ADMIN).status_code == 302
    agent.refresh_from_db()
    assert (agent.role, agent.is_staff) == (Role.ADMIN, True)


def test_admin_cannot_promote_to_owner_in_the_admin_either(client):
    client.force_login(staff(Role.ADMIN))
    agent = UserFactory()
    response = change(client, agent, role=Role.OWNER)
    assert response.status_code == 200
    assert "Only an owner can make someone an owner" in response.content.decode()
    assert User.objects.get(pk=agent.pk).role == Role.AGENT


def test_invitations_are_listed_read_only_and_can_be_revoked(client):
    client.force_login(staff(Role.ADMIN))
    invitation = InvitationFactory()
    changelist = reverse("workspace_admin:accounts_invitation_changelist")
    html = client.get(changelist).content.decode()
    assert invitation.email in html and "token_hash" not in html and invitation.token_hash not in html
    client.post(changelist, {"action": "revoke", "_selected_action": [invitation.pk]})
    assert Invitation.objects.get(pk=invitation.pk).revoked


def test_platform_staff_manage_public_users_on_the_public_admin(public_schema, public_client):
    superuser = User.objects.create_superuser("platform@switchboard.test", "Platform-pass-123")
    public_client.force_login(superuser)
    response = public_client.get("/admin/accounts/user/")
    assert response.status_code == 200
    assert "platform@switchboard.test" in response.content.decode()
    add = public_client.get("/admin/accounts/user/add/")
    assert add.status_code == 200 and 'name="email"' in add.content.decode()


def test_admin_password_change_goes_to_the_account_page(client):
    client.force_login(staff(Role.OWNER))
    response = client.get(reverse("workspace_admin:password_change"))
    assert response.status_code == 302 and response["Location"] == reverse("account_change_password")
