"""The Team page and its HTMX fragments, the invitation modal, and who may reach each of them."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import Invitation, Role, User
from accounts.tests.conftest import unique_email
from accounts.tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def team_routes(member: User | None = None) -> list[tuple[str, str]]:
    """(method, url) of every Team endpoint, with real ids so a 403 is about the role, not a missing row."""
    member = member or UserFactory()
    invitation = InvitationFactory()
    return [
        ("get", reverse("people:members")),
        ("post", reverse("accounts:member_role", args=[member.pk])),
        ("post", reverse("accounts:member_deactivate", args=[member.pk])),
        ("post", reverse("accounts:member_reactivate", args=[member.pk])),
        ("get", reverse("accounts:invitation_create")),
        ("post", reverse("accounts:invitation_create")),
        ("post", reverse("accounts:invitation_resend", args=[invitation.pk])),
        ("post", reverse("accounts:invitation_revoke", args=[invitation.pk])),
    ]


def test_anonymous_visitors_are_sent_to_sign_in_from_every_team_endpoint(client):
    for method, url in team_routes():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login") + "?next="), url


@pytest.mark.parametrize("role", [Role.AGENT, Role.SALES, Role.VIEWER])
def test_members_without_team_capabilities_get_403_everywhere(client, login, role):
    login(role)
    member = UserFactory(role=Role.VIEWER)
    for method, url in team_routes(member):
        assert getattr(client, method)(url, {"role": Role.OWNER}).status_code == 403, url
    member.refresh_from_db()
    assert (member.role, member.is_active) == (Role.VIEWER, True)  # nothing happened on the way


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_see_members_and_pending_invitations(client, login, role):
    me = login(role)
    colleague = UserFactory(name="Marcus Chen")
    invitation = InvitationFactory(email="new.person@example.test")
    html = client.get(reverse("people:members")).content.decode()
    assert me.email in html and colleague.email in html and "Marcus Chen" in html
    assert invitation.email in html
    assert 'id="team-members"' in html and 'id="team-invitations"' in html
    assert 'data-sb-shortcut="n"' in html


def test_team_page_query_count_does_not_grow_with_the_team(client, login, django_assert_max_num_queries):
    login(Role.OWNER)
    UserFactory.create_batch(3)
    InvitationFactory.create_batch(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.routing import tenant_cache_clear

    # Both requests start with a cold host → workspace cache, so only the team's size differs.
    tenant_cache_clear()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("people:members"))
    UserFactory.create_batch(15)
    InvitationFactory.create_batch(10)
    tenant_cache_clear()
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse("people:members")).status_code == 200


def test_role_change_over_htmx_returns_the_members_fragment_with_a_toast(client, login):
    login(Role.OWNER)
    agent = UserFactory(role=Role.AGENT)
    response = client.post(reverse("accounts:member_role", args=[agent.pk]), {"role": Role.ADMIN}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="team-members"')
    assert "is now admin" in html and 'hx-swap-oob="beforeend"' in html
    agent.refresh_from_db()
    assert agent.role == Role.ADMIN and agent.is_staff


def test_a_refused_role_change_explains_why_and_changes_nothing(client, login):
    login(Role.ADMIN)
    agent = UserFactory(role=Role.AGENT)
    response = client.post(reverse("accounts:member_role", args=[agent.pk]), {"role": Role.OWNER}, **HX)
    assert "Only an owner can make someone an owner" in response.content.decode()
    assert User.objects.get(pk=agent.pk).role == Role.AGENT


def test_admins_get_no_role_select_for_owners(client, login):
    login(Role.ADMIN)
    owner = UserFactory(role=Role.OWNER)
    html = client.get(reverse("people:members")).content.decode()
    assert f'id="role-{owner.pk}"' not in html
    assert reverse("accounts:member_deactivate", args=[owner.pk]) not in html


def test_deactivate_and_reactivate_without_javascript_redirect_back(client, login):
    login(Role.ADMIN)
    agent = UserFactory()
    response = client.post(reverse("accounts:member_deactivate", args=[agent.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("people:members")
    assert not User.objects.get(pk=agent.pk).is_active
    client.post(reverse("accounts:member_reactivate", args=[agent.pk]))
    assert User.objects.get(pk=agent.pk).is_active


def test_invite_modal_loads_as_a_fragment_and_a_full_page_without_htmx(client, login):
    login(Role.ADMIN)
    fragment = client.get(reverse("accounts:invitation_create"), **HX).content.decode()
    assert fragment.lstrip().startswith('<div id="invitation-form">')
    assert "<html" not in fragment
    assert 'value="owner"' not in fragment  # admins cannot invite owners
    page = client.get(reverse("accounts:invitation_create")).content.decode()
    assert "<html" in page and 'id="invitation-form"' in page


def test_invite_with_errors_re_renders_the_form_in_the_modal(client, login):
    login(Role.OWNER)
    member = UserFactory()
    response = client.post(reverse("accounts:invitation_create"), {"email": member.email, "role": "agent"}, **HX)
    assert response.status_code == 200
    assert "already a member" in response.content.decode()
    bad = client.post(reverse("accounts:invitation_create"), {"email": "not-an-email", "role": "agent"}, **HX)
    assert "valid email" in bad.content.decode()


def test_successful_invite_closes_the_modal_and_refreshes_the_list(
    client, login, mailoutbox, django_capture_on_commit_callbacks
):
    login(Role.OWNER)
    email = unique_email()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:invitation_create"), {"email": email, "role": "sales"}, **HX)
    assert response["HX-Trigger"] == "modal:close"
    assert response["HX-Retarget"] == "#team-invitations"
    assert email in response.content.decode()
    assert Invitation.objects.get(email=email).role == Role.SALES
    assert [message.to for message in mailoutbox] == [[email]]


def test_revoke_and_resend_from_the_list(client, login, django_capture_on_commit_callbacks, mailoutbox):
    login(Role.ADMIN)
    invitation = InvitationFactory(last_sent="2020-01-01T00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(reverse("accounts:invitation_resend", args=[invitation.pk]), **HX)
    assert "new invitation link was sent" in resent.content.decode()
    assert len(mailoutbox) == 1
    revoked = client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]), **HX)
    assert invitation.email not in revoked.content.decode().split("toasts")[0]
    assert Invitation.objects.get(pk=invitation.pk).revoked


def test_htmx_trigger_header_is_a_plain_event_name(client, login, django_capture_on_commit_callbacks):
    # switchboard.js listens for the bare "modal:close" event; a JSON payload would not match.
    login(Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:invitation_create"), {"email": unique_email(), "role": "agent"}, **HX)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response["HX-Trigger"])
