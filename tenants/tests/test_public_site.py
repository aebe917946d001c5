"""The public site: landing, the sign-in box, sign-up with its live address check, progress and rate limit."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from tenants.models import Domain, Tenant
from tenants.ratelimit import signup_rate_limit
from tenants.services import tenant_set_status
from tenants.tests.conftest import unique_slug

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(public_schema) -> Client:
    """The public site, from an address of its own so the per-IP sign-up limit never leaks between tests."""
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.1"
    signup_rate_limit().reset(address)  # the counter lives in Redis, which outlives test databases
    return Client(HTTP_HOST="localhost", REMOTE_ADDR=address)


def signup_data(slug: str, **overrides) -> dict:
    data = {
        "name": "Initech",
        "slug": slug,
        "owner_name": "Peter Gibbons",
        "email": "Peter@Initech.test",
        "password": "Tps-reports-2024!",
        "terms": "on",
    }
    return data | overrides


# --- Landing and sign-in box ----------------------------------------------------------------------


def test_landing_explains_switchboard_and_offers_both_ways_in(browser):
    response = browser.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Create your workspace" in html
    assert 'href="/signup/"' in html
    assert 'id="workspace-signin"' in html and 'action="/signin/"' in html


def test_sign_in_box_sends_you_to_the_workspace_login_page_on_the_same_port(browser, tenant):
    response = browser.get("/signin/", {"workspace": "Alpha"}, SERVER_PORT="8000")
    assert response.status_code == 302
    assert response["Location"] == "http://alpha.localhost:8000/accounts/login/"


def test_sign_in_box_leaves_out_default_ports(browser, tenant):
    response = browser.get("/signin/", {"workspace": "alpha.localhost"})
    assert response["Location"] == "http://alpha.localhost/accounts/login/"


def test_sign_in_box_shows_a_friendly_error_for_an_unknown_workspace(browser):
    response = browser.get("/signin/", {"workspace": "nowhere-inc"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "We couldn’t find a workspace at nowhere-inc.localhost" in html
    assert "is-invalid" in html


def test_sign_in_box_without_an_address_is_just_the_page(browser):
    response = browser.get("/signin/")
    assert response.status_code == 200
    assert "is-invalid" not in response.content.decode()


def test_sign_in_box_sends_a_workspace_still_being_set_up_to_its_progress_page(browser, make_reservation):
    reservation = make_reservation()
    response = browser.get("/signin/", {"workspace": reservation.slug})
    assert response["Location"] == f"/signup/{reservation.slug}/"


def test_terms_page_renders(browser):
    response = browser.get("/terms/")
    assert response.status_code == 200
    assert "Terms of service" in response.content.decode()


# --- Sign-up form ---------------------------------------------------------------------------------


def test_signup_page_renders_every_field(browser):
    response = browser.get("/signup/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("name", "slug", "owner_name", "email", "password", "terms"):
        assert f'name="{name}"' in html
    assert 'hx-get="/check-address/"' in html


def test_invalid_signup_re_renders_the_form_with_messages_and_creates_nothing(browser):
    data = signup_data("www", password="123", terms="")
    response = browser.post("/signup/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "“www” is reserved. Please choose another address." in html
    assert "This password is too short." in html
    assert "Please accept the terms of service to create a workspace." in html
    assert 'value="Initech"' in html  # what was typed is kept
    assert 'value="123"' not in html  # the password is not echoed back
    assert not Tenant.objects.filter(name="Initech").exists()


def test_signup_refuses_an_address_taken_meanwhile(browser, tenant):
    response = browser.post("/signup/", signup_data(tenant.slug))
    assert response.status_code == 200
    assert "“alpha” is already taken." in response.content.decode()


def test_signup_reserves_the_workspace_and_shows_progress(browser, throwaway_slugs):
    slug = unique_slug("s")
    throwaway_slugs.append(slug)
    with mock.patch("tenants.tasks.tenant_provision_task.apply_async") as queued:
        response = browser.post("/signup/", signup_data(slug))
    assert response.status_code == 302
    assert response["Location"] == f"/signup/{slug}/"
    tenant = Tenant.objects.get(slug=slug)
    assert tenant.status == Tenant.Status.PROVISIONING
    assert tenant.provisioning_step == 1
    # The task is queued on commit; the test's transaction never commits, so it was not queued yet.
    queued.assert_not_called()


def test_signup_provisions_the_workspace_and_emails_its_owner(
    browser, throwaway_slugs, django_capture_on_commit_callbacks, settings
):
    settings.SWITCHBOARD_URL_PORT = "8000"
    slug = unique_slug("s")
    throwaway_slugs.append(slug)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/signup/", signup_data(slug), SERVER_PORT="8000")
    assert response.status_code == 302

    connection.set_schema_to_public()
    tenant = Tenant.objects.get(slug=slug)
    assert tenant.status == Tenant.Status.ACTIVE
    assert Domain.objects.filter(tenant=tenant, domain=f"{slug}.localhost").exists()
    with tenant_context(tenant):
        from django.contrib.auth import get_user_model

        owner = get_user_model().objects.get()
        assert (owner.email, owner.name, owner.role) == ("peter@initech.test", "Peter Gibbons", "owner")
        assert owner.check_password("Tps-reports-2024!")
    # The verification email links to the workspace on the configured port (never the request's Host).
    assert [message.to for message in mail.outbox] == [["peter@initech.test"]]
    assert f"http://{slug}.localhost:8000/" in mail.outbox[0].body

    page = browser.get(response["Location"], SERVER_PORT="8000")
    html = page.content.decode()
    assert "Your workspace is ready — open it" in html
    assert f'href="http://{slug}.localhost:8000/accounts/login/"' in html
    assert "we sent to <strong>peter@initech.test</strong>" in html  # this browser signed up: it sees where


def test_signup_is_rate_limited_per_ip(browser, settings, throwaway_slugs):
    settings.SWITCHBOARD_SIGNUPS_PER_IP_PER_HOUR = 2
    slugs = [unique_slug("s") for _ in range(3)]
    throwaway_slugs.extend(slugs)
    responses = [browser.post("/signup/", signup_data(slug)) for slug in slugs]
    assert [response.status_code for response in responses] == [302, 302, 429]
    assert not Tenant.objects.filter(slug=slugs[2]).exists()
    refused = responses[2].content.decode()
    assert "Several workspaces were created from your network in the last hour" in refused
    assert 'value="Initech"' in refused and "is-invalid" not in refused  # kept, and not judged

    again = browser.get("/signup/")
    assert "Several workspaces were created from your network in the last hour" in again.content.decode()
    other_ip = Client(HTTP_HOST="localhost", REMOTE_ADDR="192.0.2.77")
    assert "Several workspaces" not in other_ip.get("/signup/").content.decode()


def test_failed_attempts_do_not_count_against_the_limit(browser, settings):
    settings.SWITCHBOARD_SIGNUPS_PER_IP_PER_HOUR = 1
    for _ in range(3):
        assert browser.post("/signup/", signup_data("www")).status_code == 200


# --- Live address check ---------------------------------------------------------------------------


def check(browser, trigger: str, **params) -> str:
    response = browser.get("/check-address/", params, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME=trigger)
    assert response.status_code == 200
    return response.content.decode()


def test_typing_the_name_suggests_a_free_address(browser):
    html = check(browser, "name", name="Initech Corp", slug="")
    assert 'id="signup-address-status"' in html
    assert "initech-corp.localhost is available." in html
    assert 'id="signup-slug-group" hx-swap-oob="true"' in html
    assert 'value="initech-corp"' in html


def test_typing_the_name_suggests_around_a_taken_address(browser, tenant):
    html = check(browser, "name", name="Alpha", slug="")
    assert 'value="alpha-2"' in html


def test_typing_the_name_keeps_an_address_people_typed_themselves(browser):
    html = check(browser, "name", name="Initech Corp", slug="mine", slug_edited="1")
    assert "hx-swap-oob" not in html
    assert "mine.localhost is available." in html


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "“admin” is reserved. Please choose another address."),
        ("alpha", "“alpha” is already taken. Please choose another address."),
        ("Bad_Slug", "Use 1–40 lowercase letters"),
        ("", "Pick the address your team will use to sign in."),
    ],
)
def test_typing_the_address_says_whether_it_can_be_used(browser, tenant, slug, message):
    html = check(browser, "slug", name="Whatever", slug=slug, slug_edited="1")
    assert message in html
    assert "hx-swap-oob" not in html  # never replaces the field people are typing in


# --- Progress -------------------------------------------------------------------------------------


def progress(browser, slug: str) -> str:
    response = browser.get(f"/signup/{slug}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_progress_partial_shows_each_step_while_provisioning(browser, make_reservation, step):
    reservation = make_reservation(step=step)
    html = progress(browser, reservation.slug)
    assert html.lstrip().startswith('<div id="signup-progress"')
    assert 'hx-trigger="every 500ms"' in html
    assert html.count('data-step-state="done"') == step - 1
    assert html.count('data-step-state="current"') == 1
    assert html.count('data-step-state="pending"') == 4 - step
    assert f'aria-valuenow="{25 * (step - 1)}"' in html
    assert "<html" not in html


def test_progress_partial_stops_polling_when_ready(browser, make_reservation):
    reservation = make_reservation(status=Tenant.Status.ACTIVE, step=4)
    html = progress(browser, reservation.slug)
    assert "hx-trigger" not in html
    assert html.count('data-step-state="done"') == 4
    assert 'aria-valuenow="100"' in html
    assert "Your workspace is ready — open it" in html
    assert "we sent to <strong>" not in html  # another browser's sign-up: its email is not shown


def test_progress_partial_explains_a_failure(browser, make_reservation):
    reservation = make_reservation(status=Tenant.Status.FAILED, step=2)
    html = progress(browser, reservation.slug)
    assert "hx-trigger" not in html
    assert "We couldn’t finish setting up this workspace." in html
    assert 'href="/signup/"' in html


def test_progress_page_says_when_it_is_slow(browser, make_reservation):
    reservation = make_reservation(step=2)
    with schema_context("public"):
        Tenant.objects.filter(pk=reservation.pk).update(created=reservation.created.replace(year=2020))
    assert "This is taking longer than usual." in progress(browser, reservation.slug)


def test_progress_page_is_a_full_page_without_htmx(browser, make_reservation):
    reservation = make_reservation(step=2, name="Initrode")
    response = browser.get(f"/signup/{reservation.slug}/")
    html = response.content.decode()
    assert "<html" in html and "Initrode" in html and 'id="signup-progress"' in html


def test_progress_page_of_a_suspended_workspace_says_so(browser, make_reservation):
    reservation = make_reservation(status=Tenant.Status.ACTIVE, step=4)
    tenant_set_status(tenant=reservation, status=Tenant.Status.SUSPENDED)
    assert "This workspace is suspended." in progress(browser, reservation.slug)


@pytest.mark.parametrize("slug", ["no-such-workspace", "workspace-template", "public-site"])
def test_progress_page_for_an_unknown_workspace_is_404(browser, slug):
    assert browser.get(f"/signup/{slug}/").status_code == 404


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_for_does_not_escape_the_signup_limit(settings, public_schema, throwaway_slugs, proxies):
    """With no proxy the header is ignored; behind one, only the entry our proxy appended (the right-most) counts."""
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.SWITCHBOARD_SIGNUPS_PER_IP_PER_HOUR = 2
    proxy = Client(HTTP_HOST="localhost", REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.0.1")
    client_address = f"198.51.{uuid.uuid4().int % 250}.7"
    signup_rate_limit().reset(client_address)
    slugs = [unique_slug("x") for _ in range(4)]
    throwaway_slugs.extend(slugs)
    statuses = [
        proxy.post("/signup/", signup_data(slug), HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, {client_address}").status_code
        for n, slug in enumerate(slugs[:3])
    ]
    assert statuses == [302, 302, 429]
    other_client = f"198.51.{uuid.uuid4().int % 250}.8"
    signup_rate_limit().reset(other_client)
    other = proxy.post("/signup/", signup_data(slugs[3]), HTTP_X_FORWARDED_FOR=other_client)
    assert other.status_code == (302 if proxies else 429)
