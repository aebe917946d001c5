"""Invitations: created and emailed by owners/admins, accepted signed-out through a single-use link."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Role, User
from accounts.tests.conftest import is_signed_in, unique_email
from accounts.tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Correct-horse-battery"


@pytest.fixture
def invite(django_capture_on_commit_callbacks, mailoutbox):
    """`invite(email, role, by)` → (invitation, token taken from the emailed link)."""

    def make(email: str, role: str = Role.AGENT, by: User | None = None) -> tuple[Invitation, str]:
        by = by or UserFactory(role=Role.OWNER)
        with django_capture_on_commit_callbacks(execute=True):
            invitation = services.invitation_create(email=email, role=role, invited_by=by)
        token = re.search(r"/team/join/([\w-]+)/", mailoutbox[-1].body).group(1)
        return invitation, token

    return make


def test_invitation_email_links_to_the_workspace_host_and_names_inviter_and_role(invite, mailoutbox, tenant):
    inviter = UserFactory(role=Role.ADMIN, name="Ada Lovelace")
    email = unique_email()
    invitation, token = invite(email.upper(), Role.SALES, by=inviter)

    [message] = mailoutbox
    assert message.to == [email]
    assert "Ada Lovelace invited you" in message.subject and tenant.name in message.subject
    assert re.search(rf"https?://alpha\.localhost/team/join/{token}/", message.body)
    assert "as sales" in message.body
    assert token in message.alternatives[0][0]
    assert invitation.email == email
    assert invitation.expires - invitation.created == timedelta(days=7)


def test_only_a_hash_of_the_token_is_stored(invite):
    invitation, token = invite(unique_email())
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_no_email_leaves_if_the_invitation_is_rolled_back(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invitation_create(email=unique_email(), role=Role.AGENT, invited_by=UserFactory(role=Role.OWNER))
    assert len(callbacks) == 1
    assert mailoutbox == []


def test_accepting_creates_a_verified_member_with_the_invited_role_and_signs_them_in(client, invite):
    email = unique_email()
    invitation, token = invite(email, Role.ADMIN)
    url = reverse("accounts:invitation_accept", args=[token])

    page = client.get(url)
    assert page.status_code == 200
    assert email in page.content.decode()

    response = client.post(url, {"name": "Grace Okafor", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email=email)
    assert (user.name, user.role, user.is_staff) == ("Grace Okafor", Role.ADMIN, True)
    assert EmailAddress.objects.get(user=user).verified
    assert is_signed_in(client)
    invitation.refresh_from_db()
    assert invitation.accepted_at and invitation.accepted_user == user


def test_a_used_link_cannot_be_used_again(client, invite):
    _, token = invite(unique_email())
    services.invitation_accept(token=token, name="First", password=GOOD_PASSWORD)
    response = client.get(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    with pytest.raises(services.InvitationInvalid):
        services.invitation_accept(token=token, name="Second", password=GOOD_PASSWORD)


def test_an_expired_link_gets_a_clear_page(client):
    invitation, token = InvitationFactory.with_token(expires=timezone.now() - timedelta(minutes=1))
    response = client.get(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    post = client.post(
        reverse("accounts:invitation_accept", args=[token]),
        {"name": "Late", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )
    assert post.status_code == 410
    assert not User.objects.filter(email=invitation.email).exists()


def test_a_revoked_link_gets_a_clear_page(client):
    invitation, token = InvitationFactory.with_token()
    services.invitation_revoke(invitation=invitation, actor=invitation.invited_by)
    response = client.get(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_an_unknown_token_is_a_404_with_advice(client):
    response = client.get(reverse("accounts:invitation_accept", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "copied the whole link" in response.content.decode()


def test_weak_or_mismatched_passwords_are_refused_with_messages(client):
    invitation, token = InvitationFactory.with_token()
    url = reverse("accounts:invitation_accept", args=[token])
    weak = client.post(url, {"name": "Sam", "password1": "password1", "password2": "password1"})
    assert weak.status_code == 200
    assert "too common" in weak.content.decode()
    mismatch = client.post(url, {"name": "Sam", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD + "!"})
    assert "not the same" in mismatch.content.decode()
    assert not User.objects.filter(email=invitation.email).exists()


def test_a_signed_in_person_is_asked_to_sign_out_first(client, login):
    _, token = InvitationFactory.with_token()
    login("agent")
    response = client.get(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 200
    assert "sign out first" in response.content.decode()


def test_inviting_a_member_or_an_already_invited_address_is_refused(invite):
    owner = UserFactory(role=Role.OWNER)
    member = UserFactory()
    with pytest.raises(ValidationError, match="already a member"):
        services.invitation_create(email=member.email, role=Role.AGENT, invited_by=owner)
    invitation, _ = invite(unique_email())
    with pytest.raises(ValidationError, match="pending invitation"):
        services.invitation_create(email=invitation.email, role=Role.AGENT, invited_by=owner)


def test_an_expired_invitation_is_replaced_by_a_new_one(invite):
    old, _ = InvitationFactory.with_token(expires=timezone.now() - timedelta(days=1))
    new, new_token = invite(old.email)
    old.refresh_from_db()
    assert old.revoked and new.is_pending
    assert services.invitation_check(token=new_token) == new


def test_admins_cannot_invite_owners_and_members_cannot_invite_at_all():
    with pytest.raises(ValidationError, match="Only an owner"):
        services.invitation_create(email=unique_email(), role=Role.OWNER, invited_by=UserFactory(role=Role.ADMIN))
    with pytest.raises(PermissionDenied):
        services.invitation_create(email=unique_email(), role=Role.AGENT, invited_by=UserFactory(role=Role.AGENT))


def test_resend_sends_a_new_link_and_kills_the_old_one(invite, django_capture_on_commit_callbacks, mailoutbox):
    invitation, old_token = invite(unique_email())
    Invitation.objects.filter(pk=invitation.pk).update(last_sent=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_resend(invitation=invitation, actor=invitation.invited_by)
    new_token = re.search(r"/team/join/([\w-]+)/", mailoutbox[-1].body).group(1)
    assert new_token != old_token
    with pytest.raises(services.InvitationInvalid):
        services.invitation_check(token=old_token)
    assert services.invitation_check(token=new_token).sent_count == 2


def test_resend_right_after_sending_is_refused_as_a_double_click(invite):
    invitation, _ = invite(unique_email())
    with pytest.raises(ValidationError, match="less than a minute"):
        services.invitation_resend(invitation=invitation, actor=invitation.invited_by)


def test_an_invitation_for_an_address_that_joined_meanwhile_says_sign_in(client):
    invitation, token = InvitationFactory.with_token()
    UserFactory(email=invitation.email)
    response = client.get(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 410
    assert "Sign in instead" in response.content.decode()
