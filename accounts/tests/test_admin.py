"""The workspace's Django admin (owners/admins, workspace models only) and the platform admin (public staff)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, reverse

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


def test_admin_access_follows_the_role_not_the_staff_flag(client):
    # An owner whose flag was cleared (by hand, or by an older admin form) is never locked out of their workspace.
    client.force_login(UserFactory(role=Role.OWNER, is_staff=False))
    assert client.get(reverse("workspace_admin:index")).status_code == 200


def test_anonymous_visitors_sign_in_through_allauth_not_the_admin_form(client):
    response = client.get(reverse("workspace_admin:index"), follow=True)
    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith(reverse("account_login") + "?next=")
    assert "/admin/" in final_url


def test_the_user_form_has_no_superuser_flag_and_no_add_or_delete(client):
    client.force_login(staff(Role.OWNER))
    agent = UserFactory()
    html = client.get(reverse("workspace_admin:accounts_user_change", args=[agent.pk])).content.decode()
    assert 'name="role"' in html and 'name="is_active"' in html
    assert 'name="is_staff"' not in html and 'name="name"' not in html and 'name="email"' not in html
    assert "is_superuser" not in html and 'name="password"' not in html
    assert client.get(reverse("workspace_admin:accounts_user_add")).status_code == 403
    with pytest.raises(NoReverseMatch):  # people are deactivated, never deleted: there is no delete page
        reverse("workspace_admin:accounts_user_delete", args=[agent.pk])
    client.post(f"/admin/accounts/user/{agent.pk}/delete/", {"post": "yes"})
    assert User.objects.filter(pk=agent.pk).exists()


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


# --- The workspace admin may change only what the Team page may change, with its rules -----------


def change_url(user: User) -> str:
    return reverse("workspace_admin:accounts_user_change", args=[user.pk])


def full_post(client: Client, user: User, **fields):
    """Every field a tampered form could send, with `fields` changed."""
    data = {"email": user.email, "name": user.name, "role": user.role, "is_active": "on", "is_staff": "on"}
    data.update(fields)
    return client.post(change_url(user), {key: value for key, value in data.items() if value is not None})


@pytest.mark.parametrize(
    "edit",
    [
        {"name": "Renamed by an admin"},
        {"is_staff": None},  # unticked
        {"role": Role.AGENT},
        {"is_active": None},
        {"email": "taken-over@example.test"},
    ],
    ids=["rename", "clear-staff", "demote", "deactivate", "change-email"],
)
def test_an_admin_cannot_change_an_owner_in_the_admin(client, edit):
    client.force_login(staff(Role.ADMIN))
    owner = staff(Role.OWNER)
    before = User.objects.filter(pk=owner.pk).values().get()

    response = full_post(client, owner, **edit)

    assert response.status_code == 403
    assert User.objects.filter(pk=owner.pk).values().get() == before
    page = client.get(change_url(owner))  # still visible, read-only, like on the Team page
    assert page.status_code == 200 and 'name="role"' not in page.content.decode()
    owner_client = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    owner_client.force_login(User.objects.get(pk=owner.pk))
    assert owner_client.get(reverse("workspace_admin:index")).status_code == 200


def test_names_addresses_and_the_staff_flag_are_not_editable_even_on_agents(client):
    client.force_login(staff(Role.ADMIN))
    agent = UserFactory(name="Alex Agent")

    response = full_post(client, agent, name="Someone Else", email="other@example.test", is_staff="on")

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.name, agent.is_staff) == ("Alex Agent", False) and agent.email != "other@example.test"
    agent_client = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    agent_client.force_login(agent)
    assert agent_client.get(reverse("workspace_admin:index")).status_code == 302


def test_the_last_owner_cannot_demote_or_deactivate_themselves_in_the_admin(client):
    owner = staff(Role.OWNER)
    User.objects.filter(role=Role.OWNER).exclude(pk=owner.pk).update(is_active=False)  # the workspace's first owner
    client.force_login(owner)

    demoted = full_post(client, owner, role=Role.ADMIN)
    deactivated = full_post(client, owner, is_active=None)

    assert demoted.status_code == 200 and "is the last owner" in demoted.content.decode()
    assert deactivated.status_code == 200 and "You cannot deactivate yourself" in deactivated.content.decode()
    owner.refresh_from_db()
    assert (owner.role, owner.is_active, owner.is_staff) == (Role.OWNER, True, True)


def test_an_admin_cannot_deactivate_themselves_and_cannot_reactivate_an_owner(client):
    admin_user = staff(Role.ADMIN)
    client.force_login(admin_user)
    gone_owner = UserFactory(role=Role.OWNER, is_staff=True, is_active=False)

    assert "You cannot deactivate yourself" in full_post(client, admin_user, is_active=None).content.decode()
    assert full_post(client, gone_owner, is_active="on").status_code == 403
    assert not User.objects.get(pk=gone_owner.pk).is_active


def test_an_owner_changes_another_owner_and_admin_access_follows_the_role(client):
    client.force_login(staff(Role.OWNER))
    other_owner = staff(Role.OWNER)

    assert full_post(client, other_owner, role=Role.AGENT, is_staff="on").status_code == 302

    other_owner.refresh_from_db()
    assert (other_owner.role, other_owner.is_staff) == (Role.AGENT, False)


def test_deactivating_in_the_admin_signs_the_person_out_of_the_api(client):
    from rest_framework.authtoken.models import Token

    client.force_login(staff(Role.ADMIN))
    agent = UserFactory()
    Token.objects.create(user=agent)

    assert full_post(client, agent, is_active=None).status_code == 302
    assert not User.objects.get(pk=agent.pk).is_active and not Token.objects.filter(user=agent).exists()
