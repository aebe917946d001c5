"""GET /api/v1/me/ and personal API tokens (created on the API token page, sent as `Authorization: Token …`)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.models import Role
from accounts.tests.conftest import password_login, reauthenticate, unique_email
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def token_client(key: str, host: str = "alpha.localhost") -> Client:
    return Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {key}")


def test_me_needs_authentication(client):
    response = client.get(ME)
    assert response.status_code in {401, 403}
    assert "error" in response.json()


@pytest.mark.parametrize("role", list(Role))
def test_me_with_a_session_returns_the_user_role_and_capabilities(client, login, role):
    user = login(role)
    body = client.get(ME).json()
    assert body["email"] == user.email and body["role"] == role and body["role_label"] == role.label
    assert "api.use" in body["capabilities"]
    assert ("team.manage" in body["capabilities"]) == (role in {Role.OWNER, Role.ADMIN})


def test_me_with_a_token_and_no_session():
    user = UserFactory(role=Role.VIEWER)
    token = services.api_token_create(user=user)
    response = token_client(token.key).get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_a_wrong_token_or_a_deactivated_users_token_is_refused():
    assert token_client("0" * 40).get(ME).status_code in {401, 403}
    user = UserFactory()
    key = services.api_token_create(user=user).key
    user.is_active = False
    user.save()
    assert token_client(key).get(ME).status_code in {401, 403}


def test_token_page_creates_a_token_after_the_password_is_confirmed_and_shows_it_once(client):
    user = UserFactory(email=unique_email())
    password_login(client, user.email)
    page = client.get(reverse("accounts:api_token"))
    assert "You have no API token" in page.content.decode()

    asked = client.post(reverse("accounts:api_token_create"))
    assert asked.status_code == 302 and asked["Location"].startswith(reverse("account_reauthenticate"))
    assert not Token.objects.filter(user=user).exists()

    reauthenticate(client)
    created = client.post(reverse("accounts:api_token_create"))
    key = Token.objects.get(user=user).key
    assert created.status_code == 200 and key in created.content.decode()
    assert token_client(key).get(ME).json()["email"] == user.email

    again = client.get(reverse("accounts:api_token")).content.decode()
    assert key not in again and "You have an active token" in again


def test_replacing_and_revoking_the_token(client):
    user = UserFactory(email=unique_email())
    password_login(client, user.email)
    reauthenticate(client)
    client.post(reverse("accounts:api_token_create"))
    first = Token.objects.get(user=user).key
    client.post(reverse("accounts:api_token_create"))
    second = Token.objects.get(user=user).key
    assert first != second
    assert token_client(first).get(ME).status_code in {401, 403}

    response = client.post(reverse("accounts:api_token_revoke"))
    assert response.status_code == 302
    assert not Token.objects.filter(user=user).exists()
    assert token_client(second).get(ME).status_code in {401, 403}


def test_token_pages_need_sign_in(client):
    assert client.get(reverse("accounts:api_token"))["Location"].startswith(reverse("account_login"))
    assert client.post(reverse("accounts:api_token_create"))["Location"].startswith(reverse("account_login"))
    assert client.post(reverse("accounts:api_token_revoke"))["Location"].startswith(reverse("account_login"))


def test_me_is_in_the_openapi_schema(client, login):
    login(Role.AGENT)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/me/" in schema
