"""Two-factor authentication with an authenticator app (allauth.mfa TOTP) and recovery codes."""

from __future__ import annotations

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.urls import reverse

from accounts.tests.conftest import is_signed_in, password_login, reauthenticate, unique_email
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tolerate_one_step_of_clock_drift(settings):
    # A code computed just before a 30 s boundary and checked just after would otherwise fail now and then.
    settings.MFA_TOTP_TOLERANCE = 1


def totp_code(secret: str, offset: int = 0) -> str:
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + offset
    return format_hotp_value(hotp_value(secret, counter))


def activate_totp(client, user) -> str:
    """Signs in, confirms the password again (allauth asks before 2FA changes) and turns TOTP on."""
    password_login(client, user.email)
    reauthenticate(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    assert secret in page.content.decode()
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()
    return secret


def test_mfa_index_renders_inside_the_app_with_account_tabs(client):
    user = UserFactory(email=unique_email())
    client.force_login(user)
    html = client.get(reverse("mfa_index")).content.decode()
    assert "Authenticator app" in html
    assert 'id="user-menu"' in html  # the signed-in shell from base.html
    assert reverse("accounts:api_token") in html  # settings tabs


def test_enabling_totp_shows_recovery_codes_and_sends_a_security_notice(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(email=unique_email())
    with django_capture_on_commit_callbacks(execute=True):
        activate_totp(client, user)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200
    assert "Recovery codes" in codes.content.decode()
    [notice] = mailoutbox
    assert notice.to == [user.email]
    assert "Authenticator App Activated" in notice.subject


def test_wrong_code_does_not_enable_totp(client):
    user = UserFactory(email=unique_email())
    password_login(client, user.email)
    reauthenticate(client)
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not Authenticator.objects.filter(user=user).exists()


def test_login_requires_the_code_once_totp_is_on(client):
    user = UserFactory(email=unique_email())
    secret = activate_totp(client, user)
    client.post(reverse("account_logout"))
    assert not is_signed_in(client)

    response = password_login(client, user.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert not is_signed_in(client)
    assert client.get(reverse("accounts:api_token")).status_code == 302

    challenge = client.get(reverse("mfa_authenticate"))
    assert "Enter your code" in challenge.content.decode()
    wrong = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert wrong.status_code == 200
    assert not is_signed_in(client)

    right = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, offset=1)})
    assert right.status_code == 302
    assert is_signed_in(client)


def test_a_recovery_code_works_once_instead_of_the_app(client):
    user = UserFactory(email=unique_email())
    activate_totp(client, user)
    recovery = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    code = recovery.wrap().get_unused_codes()[0]
    client.post(reverse("account_logout"))

    password_login(client, user.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert is_signed_in(client)

    client.post(reverse("account_logout"))
    password_login(client, user.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert not is_signed_in(client)


def test_deactivating_totp_brings_back_password_only_sign_in(client):
    user = UserFactory(email=unique_email())
    activate_totp(client, user)
    page = client.get(reverse("mfa_deactivate_totp"))
    assert "Turn off two-factor authentication" in page.content.decode()
    client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    client.post(reverse("account_logout"))
    password_login(client, user.email)
    assert is_signed_in(client)


def test_totp_entry_names_the_workspace(client, tenant):
    user = UserFactory(email=unique_email())
    password_login(client, user.email)
    reauthenticate(client)
    html = client.get(reverse("mfa_activate_totp")).content.decode()
    assert "data:image/svg+xml;base64," in html
    from allauth.mfa.adapter import get_adapter

    assert get_adapter().get_totp_issuer() == f"Switchboard ({tenant.name})"
