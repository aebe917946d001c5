"""Signing in: email + password, mandatory email verification, password reset, lockout after failed attempts."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.tests.conftest import is_signed_in, password_login, unique_email
from accounts.tests.factories import UserFactory
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_renders_in_the_product_look_without_a_sign_up_link(client, tenant):
    response = client.get(reverse("account_login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "vendor/bootstrap" in html
    assert f"Sign in to {tenant.name}" in html
    assert 'name="login"' in html and 'type="email"' in html
    assert reverse("account_reset_password") in html
    assert "sign up" not in html.lower()


def test_login_with_email_and_password_signs_in(client):
    user = UserFactory(email=unique_email())
    response = password_login(client, user.email.upper())
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_signed_in(client)


def test_login_with_wrong_password_shows_the_form_again_with_an_error(client):
    user = UserFactory(email=unique_email())
    response = password_login(client, user.email, "not-the-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert not is_signed_in(client)


def test_deactivated_user_cannot_sign_in(client):
    user = UserFactory(email=unique_email(), is_active=False)
    response = password_login(client, user.email)
    assert not is_signed_in(client)
    assert response.status_code in {200, 302}


def test_unverified_email_is_blocked_and_gets_a_confirmation_link_on_the_workspace_host(client, tenant):
    user = UserFactory(email=unique_email(), verified_email=False)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)

    response = password_login(client, user.email)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not is_signed_in(client)
    assert client.get("/team/api-token/").status_code == 302
    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.subject.startswith(f"[{tenant.name}]")
    link = re.search(r"https?://(\S+)/accounts/confirm-email/(\S+)/", message.body)
    assert link.group(1) == "alpha.localhost"

    page = client.get(f"/accounts/confirm-email/{link.group(2)}/")
    assert page.status_code == 200
    assert user.email in page.content.decode()
    client.post(f"/accounts/confirm-email/{link.group(2)}/")
    assert EmailAddress.objects.get(user=user).verified
    password_login(client, user.email)
    assert is_signed_in(client)


def test_verification_sent_page_renders(client):
    response = client.get(reverse("account_email_verification_sent"))
    assert response.status_code == 200
    assert "Confirm your email address" in response.content.decode()


def test_password_reset_emails_a_link_that_sets_a_new_password(client, tenant):
    user = UserFactory(email=unique_email())

    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    [message] = mail.outbox
    assert message.subject == f"[{tenant.name}] Reset your password"
    url = re.search(r"https?://alpha\.localhost(/accounts/password/reset/key/\S+/)", message.body).group(1)

    form_page = client.get(url, follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]

    weak = client.post(set_password_url, {"password1": "password123", "password2": "password123"})
    assert "too common" in weak.content.decode()

    done = client.post(
        set_password_url, {"password1": "A-much-better-passphrase", "password2": "A-much-better-passphrase"}
    )
    assert done.status_code == 302
    assert password_login(client, user.email, "A-much-better-passphrase").status_code == 302
    assert is_signed_in(client)


def test_password_reset_link_is_useless_after_use(client):
    user = UserFactory(email=unique_email())
    client.post(reverse("account_reset_password"), {"email": user.email})
    url = re.search(r"https?://alpha\.localhost(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    set_password_url = client.get(url, follow=True).redirect_chain[-1][0]
    client.post(set_password_url, {"password1": "A-much-better-passphrase", "password2": "A-much-better-passphrase"})

    again = client.get(url, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_password_validators_reject_short_numeric_and_similar_passwords(client):
    user = UserFactory(email=unique_email("grace.hopper"), name="Grace Hopper")
    client.force_login(user)
    cases = {"Short-1": "too short", "3141592653589793": "entirely numeric", "grace.hopper-x": "too similar"}
    for password, message in cases.items():
        response = client.post(
            reverse("account_change_password"),
            {"oldpassword": TEST_PASSWORD, "password1": password, "password2": password},
        )
        assert message in response.content.decode(), password


class TestLockout:
    """allauth's limits: 5 failures per account per 5 minutes, 10 per IP per minute; counters in the tenant cache."""

    def test_account_locks_after_five_failures_even_for_the_right_password(self, client):
        user = UserFactory(email=unique_email())
        for _ in range(5):
            password_login(client, user.email, "wrong-password")
        response = password_login(client, user.email)
        assert "Too many failed login attempts" in response.content.decode()
        assert not is_signed_in(client)

    def test_four_failures_do_not_lock(self, client):
        user = UserFactory(email=unique_email())
        for _ in range(4):
            password_login(client, user.email, "wrong-password")
        password_login(client, user.email)
        assert is_signed_in(client)

    def test_a_lockout_in_one_workspace_does_not_lock_the_same_address_in_another(self, client, other_tenant):
        email = unique_email()
        UserFactory(email=email)
        with tenant_context(other_tenant):
            UserFactory(email=email)
        for _ in range(4):
            password_login(client, email, "wrong-password")
        assert connection.schema_name == "t_alpha" and User.objects.filter(email=email).exists()
        password_login(client, email, "wrong-password")
        assert "Too many failed" in password_login(client, email).content.decode()

        beta = type(client)(HTTP_HOST="beta.localhost", REMOTE_ADDR=client.defaults["REMOTE_ADDR"])
        response = password_login(beta, email)
        assert response.status_code == 302
        assert is_signed_in(beta)

    def test_an_ip_that_failed_ten_times_is_paused_in_this_workspace_only(self, client, other_tenant):
        for _ in range(10):
            password_login(client, unique_email(), "wrong-password")
        user = UserFactory(email=unique_email())
        assert "Too many failed" in password_login(client, user.email).content.decode()

        email = unique_email()
        with tenant_context(other_tenant):
            UserFactory(email=email)
        beta = type(client)(HTTP_HOST="beta.localhost", REMOTE_ADDR=client.defaults["REMOTE_ADDR"])
        password_login(beta, email)
        assert is_signed_in(beta)


def test_too_many_sign_in_requests_get_the_products_429_page(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    for _ in range(2):
        assert password_login(client, unique_email(), "wrong").status_code == 200
    response = password_login(client, unique_email(), "wrong")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_changing_the_email_address_takes_effect_once_the_new_one_is_confirmed(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory(email=unique_email())
    password_login(client, user.email)
    new_email = unique_email("new")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_email"), {"action_add": "", "email": new_email})
    assert User.objects.get(pk=user.pk).email == user.email  # not before confirming
    message = next(m for m in mail.outbox if m.to == [new_email])
    key = re.search(r"/accounts/confirm-email/(\w+)/", message.body).group(1)
    client.post(f"/accounts/confirm-email/{key}/")
    assert User.objects.get(pk=user.pk).email == new_email
    client.post(reverse("account_logout"))
    password_login(client, new_email)
    assert is_signed_in(client)


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_for_does_not_escape_the_login_lockout(client, settings, proxies):
    """With no proxy the header is ignored; behind one, only the entry our proxy appended (the right-most) counts."""
    settings.TRUSTED_PROXY_COUNT = proxies
    for n in range(10):
        password_login(client, unique_email(), "wrong-password", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7")
    user = UserFactory(email=unique_email())
    refused = password_login(client, user.email, HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.7")
    assert "Too many failed" in refused.content.decode() and not is_signed_in(client)

    password_login(client, user.email, HTTP_X_FORWARDED_FOR="198.51.100.8")  # another client behind the proxy
    assert is_signed_in(client) is bool(proxies)
