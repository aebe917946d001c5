"""Conventions every /api/v1/ endpoint shares: per-workspace throttling, one error body, docs for members only."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def strict_throttle(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"tenant_user": "3/min"}}


def test_too_many_calls_get_429_with_retry_after_and_a_readable_message(client, login, strict_throttle):
    login("agent")
    statuses = [client.get(ME).status_code for _ in range(3)]
    response = client.get(ME)

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["message"].startswith("Too many requests. Try again in")


def test_throttling_counts_per_workspace(client, login, other_tenant, strict_throttle):
    """Another workspace's user keeps its allowance even when its user id is the same."""
    login("agent")
    for _ in range(3):
        client.get(ME)
    assert client.get(ME).status_code == 429

    with tenant_context(other_tenant):
        twin = UserFactory(role="agent")
        token = Token.objects.create(user=twin)
    beta = Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert beta.get(ME).status_code == 200


def test_a_token_from_one_workspace_is_unknown_in_another(make_user, other_tenant):
    token = Token.objects.create(user=make_user("agent"))
    alpha = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    beta = Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert alpha.get(ME).status_code == 200
    response = beta.get(ME)
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "authentication_failed", "message": "Invalid token."}


def test_errors_share_one_body_shape(client, login):
    login("agent")
    not_found = client.get("/api/v1/customers/999999999/")
    invalid = client.post("/api/v1/customers/", {"tier": "gold"}, content_type="application/json")

    assert not_found.status_code == 404
    assert set(not_found.json()["error"]) == {"code", "message"}
    assert invalid.status_code == 400
    body = invalid.json()["error"]
    assert body["code"] == "invalid" and body["message"] and "name" in body["fields"]


def test_schema_and_docs_are_for_signed_in_members(client, login):
    assert client.get("/api/v1/schema/").status_code == 401
    login("viewer")
    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200 and b"/api/v1/customers/" in schema.content
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
