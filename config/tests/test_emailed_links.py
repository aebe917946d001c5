"""Links that leave by email take scheme, host and port from configuration, never from the request.

Every request here forges what it can: a Host header with another port (still allowed by ALLOWED_HOSTS and still
routed to the workspace) and an X-Forwarded-Host naming an attacker's server. The mails must point at
SWITCHBOARD_URL_SCHEME://<the workspace's domain>:SWITCHBOARD_URL_PORT all the same.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.conftest import password_login, unique_email
from accounts.tests.factories import UserFactory
from core.links import public_site_url, workspace_url

pytestmark = pytest.mark.django_db

FORGED = {"HTTP_HOST": "alpha.localhost:6666", "HTTP_X_FORWARDED_HOST": "attacker.example"}
CONFIGURED = "https://alpha.localhost:8443/"


@pytest.fixture(autouse=True)
def configured_links(settings) -> None:
    settings.SWITCHBOARD_URL_SCHEME = "https"
    settings.SWITCHBOARD_URL_PORT = "8443"


@pytest.fixture
def forged_client(client) -> Client:
    client.defaults.update(FORGED)
    return client


def links_in(message) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", message.body)


def assert_only_configured_links(message) -> None:
    links = links_in(message)
    assert links, message.body
    assert all(link.startswith(CONFIGURED) for link in links), links
    assert "6666" not in message.body and "attacker" not in message.body


def test_the_links_come_from_settings():
    assert workspace_url("/x/", hostname="acme.localhost") == "https://acme.localhost:8443/x/"
    assert public_site_url() == "https://localhost:8443/"


def test_default_ports_are_left_out(settings):
    settings.SWITCHBOARD_URL_PORT = "443"

    assert workspace_url("/x/", hostname="acme.localhost") == "https://acme.localhost/x/"


def test_password_reset_link(forged_client):
    user = UserFactory(email=unique_email())

    forged_client.post(reverse("account_reset_password"), {"email": user.email})

    [message] = mail.outbox
    assert_only_configured_links(message)
    assert f"{CONFIGURED}accounts/password/reset/key/" in message.body


def test_email_confirmation_link(forged_client):
    user = UserFactory(email=unique_email(), verified_email=False)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)

    password_login(forged_client, user.email)

    [message] = mail.outbox
    assert_only_configured_links(message)
    assert f"{CONFIGURED}accounts/confirm-email/" in message.body


def test_invitation_link(forged_client, make_user, django_capture_on_commit_callbacks):
    forged_client.force_login(make_user("owner"))

    with django_capture_on_commit_callbacks(execute=True):
        forged_client.post(reverse("accounts:invitation_create"), {"email": unique_email(), "role": "agent"})

    [message] = mail.outbox
    assert_only_configured_links(message)
    assert f"{CONFIGURED}team/join/" in message.body


def test_help_center_status_link(forged_client, django_capture_on_commit_callbacks):
    data = {"name": "Jane Doe", "email": unique_email(), "subject": "Invoice", "description": "Where is it?"}

    with django_capture_on_commit_callbacks(execute=True):
        forged_client.post(reverse("help_center:request_new"), data)

    [message] = mail.outbox
    assert_only_configured_links(message)
    assert f"{CONFIGURED}help/requests/" in message.body
