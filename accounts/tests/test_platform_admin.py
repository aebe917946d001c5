"""The platform admin (public site /admin/): staff sign in through allauth, with its lockout and two-factor step."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.facade import platform_staff_ensure
from accounts.models import User
from accounts.tests.conftest import is_signed_in, password_login, unique_email, unique_ip
from accounts.tests.test_mfa import totp_code
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
URLCONF = "config.urls.public"


@pytest.fixture(autouse=True)
def _one_step_of_clock_drift(settings):
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.fixture
def browser(public_schema) -> Client:
    return Client(HTTP_HOST="localhost", REMOTE_ADDR=unique_ip())


@pytest.fixture
def staff(public_schema) -> User:
    email = unique_email("staff")
    platform_staff_ensure(email=email, password=TEST_PASSWORD, name="Platform Staff")
    return User.objects.get(email=email)


def login_url() -> str:
    return reverse("account_login", urlconf=URLCONF)


def test_the_admin_sends_visitors_to_allauths_sign_in(browser):
    response = browser.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0] == f"{login_url()}?next={ADMIN}"
    html = response.content.decode()
    assert response.status_code == 200 and 'name="login"' in html
    assert "Switchboard staff only" in html and "New to this workspace" not in html


def test_the_admins_own_login_form_signs_nobody_in(browser, staff):
    response = browser.post("/admin/login/?next=/admin/", {"username": staff.email, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(login_url())
    assert not is_signed_in(browser)


def test_staff_sign_in_with_their_password_and_land_in_the_admin(browser, staff):
    response = browser.post(f"{login_url()}?next={ADMIN}", {"login": staff.email, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == ADMIN
    assert browser.get(ADMIN).status_code == 200


def test_twelve_wrong_passwords_lock_the_account_even_for_the_right_one(browser, staff):
    for _ in range(12):
        password_login(browser, staff.email, "wrong-password")
    fresh_address = Client(HTTP_HOST="localhost", REMOTE_ADDR=unique_ip())  # the account is locked, not the IP

    for attempt in (browser, fresh_address):
        response = password_login(attempt, staff.email)
        assert "Too many failed login attempts" in response.content.decode()
        assert not is_signed_in(attempt) and attempt.get(ADMIN).status_code == 302


def test_an_address_that_failed_ten_times_is_paused_for_every_account(browser, staff):
    for _ in range(10):
        password_login(browser, unique_email(), "wrong-password")
    response = password_login(browser, staff.email)
    assert "Too many failed" in response.content.decode() and not is_signed_in(browser)


def test_staff_enrol_an_authenticator_and_must_pass_it_before_the_admin_opens(browser, staff):
    password_login(browser, staff.email)
    browser.post(reverse("account_reauthenticate", urlconf=URLCONF), {"password": TEST_PASSWORD})
    assert browser.get(reverse("mfa_index", urlconf=URLCONF)).status_code == 200
    activate = reverse("mfa_activate_totp", urlconf=URLCONF)
    assert browser.get(activate).status_code == 200
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    secret = browser.session[SECRET_SESSION_KEY]
    assert browser.post(activate, {"code": totp_code(secret)}).status_code == 302
    browser.post(reverse("account_logout", urlconf=URLCONF))

    response = password_login(browser, staff.email)
    assert response["Location"] == reverse("mfa_authenticate", urlconf=URLCONF)
    assert not is_signed_in(browser)
    assert browser.get(ADMIN).status_code == 302

    browser.post(reverse("mfa_authenticate", urlconf=URLCONF), {"code": totp_code(secret, offset=1)})
    assert is_signed_in(browser) and browser.get(ADMIN).status_code == 200
