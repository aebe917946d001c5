"""Workspaces do not share sign-ins: sessions, API tokens and confirmation links of one are useless in another."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts import facade, services
from accounts.models import Role
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def beta_client() -> Client:
    return Client(HTTP_HOST="beta.localhost")


def test_a_session_from_alpha_is_not_valid_on_betas_host(client, other_tenant):
    user = UserFactory(role=Role.OWNER)
    client.force_login(user)
    assert client.get(reverse("people:members")).status_code == 200
    with tenant_context(other_tenant):
        # Even a beta user with the same id would not be signed in: the session row lives in alpha's schema.
        UserFactory(email=user.email, role=Role.OWNER)

    beta = beta_client()
    beta.cookies = client.cookies
    response = beta.get(reverse("people:members"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert beta.get("/api/v1/me/").status_code in {401, 403}


def test_an_api_token_from_alpha_is_refused_on_beta():
    key = services.api_token_create(user=UserFactory()).key
    response = Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/me/")
    assert response.status_code in {401, 403}


def test_owner_verification_email_from_a_task_links_to_the_workspace_host(
    client, django_capture_on_commit_callbacks, mailoutbox, tenant
):
    user = facade.user_create_owner(email="founder@example.test", password_hash="!", name="Fiona Founder")
    with django_capture_on_commit_callbacks(execute=True):
        facade.owner_send_verification(user=user)
    [message] = mailoutbox
    assert message.to == ["founder@example.test"]
    assert message.subject == f"[{tenant.name}] Welcome! Please confirm your email address"
    assert "Hello Fiona" in message.body
    key = re.search(r"https?://alpha\.localhost/accounts/confirm-email/(\w+)/", message.body).group(1)

    # The key is stored in alpha's schema only: beta's host does not know it.
    beta_page = beta_client().get(f"/accounts/confirm-email/{key}/")
    assert "expired or has already been used" in beta_page.content.decode()

    assert "founder@example.test" in client.get(f"/accounts/confirm-email/{key}/").content.decode()
    client.post(f"/accounts/confirm-email/{key}/")
    assert EmailAddress.objects.get(user=user).verified


def test_owner_verification_is_not_sent_for_a_verified_address(django_capture_on_commit_callbacks, mailoutbox):
    user = facade.user_create_owner(email="verified@example.test", password_hash="!", verified=True)
    with django_capture_on_commit_callbacks(execute=True):
        facade.owner_send_verification(user=user)
    assert mailoutbox == []


def test_signed_hmac_confirmation_keys_are_not_accepted(other_tenant):
    """An HMAC key names only the address's row id, which another schema reuses: only stored keys are valid."""

    with tenant_context(other_tenant):
        user = UserFactory(verified_email=False)
        address = EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
        forged = EmailConfirmationHMAC(address).key
    beta_client().post(f"/accounts/confirm-email/{forged}/")
    with tenant_context(other_tenant):
        assert not EmailAddress.objects.get(pk=address.pk).verified
