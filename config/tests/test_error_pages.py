"""Styled 403, 404 and 500 pages on workspace hosts, on the public site and on unknown hosts; JSON under /api/; the
500 page renders with no database and no request context; never Django's debug page with DEBUG off."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import get_resolver

from accounts.api.views import MeApi
from core import context_processors
from core.error_views import error_500

STYLED = 'data-testid="error-page"'


def explode(*args, **kwargs):
    raise RuntimeError("the database is on fire")


@pytest.mark.parametrize("urlconf", ["config.urls.public", "config.urls.tenant"])
def test_both_urlconfs_use_the_styled_handlers(urlconf):
    resolver = get_resolver(urlconf)

    assert [resolver.resolve_error_handler(status).__name__ for status in (403, 404, 500)] == [
        "error_403",
        "error_404",
        "error_500",
    ]


@pytest.mark.django_db
def test_a_missing_page_on_a_workspace_is_the_styled_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert STYLED in html and "We can’t find that page" in html
    assert "Page not found at" not in html and "URLconf" not in html  # not Django's technical page


@pytest.mark.django_db
def test_a_404_raised_by_a_view_shows_its_message(client):
    response = client.get("/help/requests/forged-token/")

    assert response.status_code == 404 and "This link is not valid" in response.content.decode()


@pytest.mark.django_db
def test_a_missing_page_on_the_public_site_is_the_styled_404(public_client):
    response = public_client.get("/no-such-page/")

    assert response.status_code == 404 and STYLED in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_host_gets_the_styled_unknown_workspace_page():
    response = Client(HTTP_HOST="nowhere.localhost").get("/no-such-page/")

    assert response.status_code == 404
    assert "We can’t find this workspace" in response.content.decode()


@pytest.mark.django_db
def test_a_forbidden_page_is_the_styled_403_with_the_reason(client, login):
    login("viewer")

    response = client.get("/settings/helpdesk/")

    assert response.status_code == 403
    html = response.content.decode()
    assert STYLED in html and "You can’t open this page" in html and "Your role does not allow this" in html


@pytest.mark.django_db
def test_a_refused_form_is_the_styled_403_that_says_what_to_do(tenant):
    from tenants.services import workspace_domain

    response = Client(HTTP_HOST=workspace_domain(tenant.slug), enforce_csrf_checks=True).post(
        "/accounts/login/", {"login": "x@example.test", "password": "x"}
    )

    assert response.status_code == 403
    assert STYLED in response.content.decode() and "reload the page" in response.content.decode()


@pytest.mark.django_db
def test_a_crash_on_a_workspace_page_is_the_styled_500_not_a_traceback(client, login, monkeypatch):
    login("agent")
    monkeypatch.setattr(context_processors, "live_socket_url", explode)
    client.raise_request_exception = False

    response = client.get("/customers/")

    assert response.status_code == 500
    html = response.content.decode()
    assert STYLED in html and "Something went wrong on our side" in html
    assert "the database is on fire" not in html and "Traceback" not in html


def test_the_500_page_needs_no_database_and_no_request_context():
    """No django_db mark: any query here raises (pytest-django blocks the database)."""
    request = RequestFactory().get("/customers/", HTTP_HOST="alpha.localhost")  # no tenant, no user, no session

    response = error_500(request)

    assert response.status_code == 500 and STYLED in response.content.decode()


@pytest.mark.django_db
def test_api_errors_are_json(client, login, monkeypatch):
    login("agent")
    monkeypatch.setattr(MeApi, "get", explode)
    client.raise_request_exception = False

    missing = client.get("/api/v1/no-such-endpoint/")
    crashed = client.get("/api/v1/me/")

    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json()["error"]["code"] == "not_found"
    assert crashed.status_code == 500 and crashed["Content-Type"] == "application/json"
    assert crashed.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side. We have been told; please try again in a moment.",
        }
    }
