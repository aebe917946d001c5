"""Host routing: unknown hosts get a friendly 404, suspended or unfinished workspaces a page saying so, on every URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import DisallowedHost
from django.test import Client

from tenants import routing
from tenants.models import Tenant
from tenants.services import workspace_domain

pytestmark = pytest.mark.django_db

# Pages, the API, the admin, allauth and a URL that does not exist: the workspace's state wins over all of them.
WORKSPACE_URLS = ["/", "/accounts/login/", "/api/v1/", "/api/v1/customers/", "/admin/", "/team/", "/no-such-page/"]


@pytest.mark.parametrize("host", ["nowhere-inc.localhost", "deep.nowhere.localhost"])
def test_unknown_workspace_host_gets_a_friendly_404(host):
    response = Client(HTTP_HOST=host).get("/customers/")
    assert response.status_code == 404
    assert "tenants/unknown_workspace.html" in [template.name for template in response.templates]
    html = response.content.decode()
    assert f"There is no Switchboard workspace at <strong>{host}</strong>" in html
    assert 'href="http://localhost/"' in html
    assert 'href="http://localhost/signin/"' in html


def test_foreign_host_gets_the_friendly_404_not_a_400_or_500():
    response = Client(HTTP_HOST="evil.example.com").get("/")
    assert response.status_code == 404
    assert "This address is not served by Switchboard." in response.content.decode()


def test_unknown_host_page_links_back_on_the_same_port():
    response = Client(HTTP_HOST="nowhere-inc.localhost:8000").get("/", SERVER_PORT="8000")
    assert response.status_code == 404
    assert 'href="http://localhost:8000/"' in response.content.decode()


@pytest.mark.parametrize("path", WORKSPACE_URLS)
def test_suspended_workspace_answers_every_url_with_403(make_workspace, path):
    workspace = make_workspace(status=Tenant.Status.SUSPENDED, name="Paused Ltd")
    response = Client(HTTP_HOST=workspace_domain(workspace.slug)).get(path)
    assert response.status_code == 403
    html = response.content.decode()
    assert "This workspace is suspended" in html
    assert "Paused Ltd" in html


def test_suspended_workspace_refuses_api_writes_too(make_workspace):
    workspace = make_workspace(status=Tenant.Status.SUSPENDED)
    response = Client(HTTP_HOST=workspace_domain(workspace.slug)).post(
        "/api/v1/customers/", {"name": "x"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_workspace_still_provisioning_shows_the_set_up_page(make_reservation):
    reservation = make_reservation(step=2, name="Brand New Ltd")
    response = Client(HTTP_HOST=workspace_domain(reservation.slug)).get("/accounts/login/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "Brand New Ltd is being set up" in html
    assert 'http-equiv="refresh"' in html


def test_workspace_whose_set_up_failed_says_so(make_reservation):
    reservation = make_reservation(status=Tenant.Status.FAILED, step=2)
    response = Client(HTTP_HOST=workspace_domain(reservation.slug)).get("/")
    assert response.status_code == 403
    assert "could not be set up" in response.content.decode()


def test_reactivated_workspace_serves_pages_again(make_workspace):
    from tenants.services import tenant_set_status

    workspace = make_workspace(status=Tenant.Status.SUSPENDED)
    browser = Client(HTTP_HOST=workspace_domain(workspace.slug))
    assert browser.get("/accounts/login/").status_code == 403
    tenant_set_status(tenant=workspace, status=Tenant.Status.ACTIVE)
    assert browser.get("/accounts/login/").status_code == 200


# --- The host check and the host → workspace cache ------------------------------------------------


@pytest.mark.parametrize(
    ("raw_host", "hostname"),
    [
        ("alpha.localhost", "alpha.localhost"),
        ("alpha.localhost:8000", "alpha.localhost"),
        ("www.alpha.localhost", "alpha.localhost"),
        ("ALPHA.localhost.", "alpha.localhost"),
        ("localhost:8000", "localhost"),
        ("127.0.0.1:8000", "127.0.0.1"),
    ],
)
def test_routing_hostname_normalises_allowed_hosts(raw_host, hostname):
    assert routing.routing_hostname(raw_host) == hostname


@pytest.mark.parametrize("raw_host", ["evil.example.com", "alpha.localhost.evil.test", "", "bad host", "a:b:c"])
def test_routing_hostname_refuses_hosts_outside_allowed_hosts(raw_host):
    with pytest.raises(DisallowedHost):
        routing.routing_hostname(raw_host)


@pytest.fixture
def empty_host_cache() -> Iterator[None]:
    routing.tenant_cache_clear()
    yield
    routing.tenant_cache_clear()


def test_host_cache_stays_within_its_bound_however_many_hosts_are_tried(empty_host_cache, monkeypatch):
    """Every *.localhost (every *.<base domain>) passes ALLOWED_HOSTS: a scan of 100k names must not grow memory."""
    monkeypatch.setattr(routing, "_lookup", lambda hostname: None)

    for number in range(100_000):
        routing.tenant_for_hostname(f"probe-{number}.localhost")

    assert len(routing._cache) <= routing.MAX_ENTRIES
    assert routing.tenant_cache_size() == routing.MAX_ENTRIES


def test_host_cache_forgets_unknown_hosts_quickly_and_workspaces_after_their_ttl(empty_host_cache, monkeypatch):
    now = [1_000.0]
    looked_up: list[str] = []
    workspace = object()
    monkeypatch.setattr(routing, "_clock", lambda: now[0])

    def lookup(hostname: str) -> object | None:
        looked_up.append(hostname)
        return workspace if hostname == "known.localhost" else None

    monkeypatch.setattr(routing, "_lookup", lookup)

    for _ in range(3):
        assert routing.tenant_for_hostname("known.localhost") is workspace
        assert routing.tenant_for_hostname("unknown.localhost") is None
    now[0] += routing.MISS_SECONDS + 0.1
    routing.tenant_for_hostname("known.localhost")
    routing.tenant_for_hostname("unknown.localhost")
    now[0] += routing.HIT_SECONDS
    routing.tenant_for_hostname("known.localhost")

    assert looked_up == ["known.localhost", "unknown.localhost", "unknown.localhost", "known.localhost"]


def test_a_host_outside_allowed_hosts_never_reaches_the_host_cache(empty_host_cache, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client(HTTP_HOST="evil.example.com").get("/")

    assert response.status_code == 404
    assert routing.tenant_cache_size() == 0
