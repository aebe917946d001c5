"""Fixtures for the accounts tests: fresh client IPs and addresses, so allauth's rate limits (kept in the
shared Redis for minutes) never carry over between tests or between runs."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import TEST_PASSWORD


def unique_ip() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2] or 1}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.test"


@pytest.fixture
def other_tenant(other_tenant, tenant):
    # The root fixture leaves the connection on the public schema; tests here expect to still be in alpha.
    connection.set_tenant(tenant)
    return other_tenant


@pytest.fixture
def client(client) -> Client:
    client.defaults["REMOTE_ADDR"] = unique_ip()
    return client


def password_login(client: Client, email: str, password: str = TEST_PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def reauthenticate(client: Client, password: str = TEST_PASSWORD):
    """allauth asks for the password again (valid 5 minutes) before 2FA changes and new API tokens."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content.decode()
    return response
