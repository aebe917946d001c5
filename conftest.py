"""Test fixtures shared by every app: two workspaces created once per session, clients and users per role."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.apps import apps
from django.db import IntegrityError, connection
from django.test import Client

from tenants.models import Tenant
from tenants.routing import tenant_cache_clear, tenant_for_hostname
from tenants.services import platform_bootstrap, tenant_create, workspace_domain

pytest_plugins = ["core.testing.fixtures"]

TEST_PASSWORD = "Sw1tchboard-test-pass"
WORKSPACES = {"alpha": "Alpha Testing Ltd", "beta": "Beta Testing Ltd"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> None:
    """Migrated once; the two workspaces survive between runs thanks to --reuse-db."""
    with django_db_blocker.unblock():
        if connection.settings_dict["NAME"] != connection.settings_dict["TEST"]["NAME"]:
            return  # pytest-django created no test database: never set up workspaces in the development one
        platform_bootstrap()
        for slug, name in WORKSPACES.items():
            if not Tenant.objects.filter(slug=slug).exists():
                tenant_create(name=name, slug=slug, admin_email=f"owner@{slug}.test", admin_password=TEST_PASSWORD)
        connection.set_schema_to_public()


# tenants_tenant lives in public, which is on every search_path: these fixtures never switch schema.
@pytest.fixture
def tenant(django_db_setup, django_db_blocker) -> Tenant:
    with django_db_blocker.unblock():
        return Tenant.objects.get(slug="alpha")


@pytest.fixture
def other_tenant(django_db_setup, django_db_blocker) -> Tenant:
    with django_db_blocker.unblock():
        return Tenant.objects.get(slug="beta")


@pytest.fixture(autouse=True)
def _in_tenant_schema(request) -> Iterator[None]:
    """Tests run inside workspace "alpha" unless they ask for `public_schema`."""
    if "public_schema" in request.fixturenames or not _uses_db(request):
        yield
        return
    tenant = request.getfixturevalue("tenant")
    connection.set_tenant(tenant)
    yield
    connection.set_schema_to_public()


def _uses_db(request) -> bool:
    return bool({"db", "transactional_db", "django_db_reset_sequences"} & set(request.fixturenames)) or bool(
        request.node.get_closest_marker("django_db")
    )


@pytest.fixture(autouse=True)
def _fresh_cache_namespace(request, settings) -> None:
    """Each test starts with an empty cache: rows roll back after a test, cached results must not outlive them.

    Tests that share the cache with other processes (a real worker, a live server) mark themselves `shared_cache`.
    """
    if request.node.get_closest_marker("shared_cache"):
        return
    default = settings.CACHES["default"]
    settings.CACHES = {"default": default | {"KEY_PREFIX": f"{default.get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:12]}"}}


@pytest.fixture(autouse=True)
def _no_dns_lookups(monkeypatch) -> None:
    """The egress guard resolves names through `core.egress._getaddrinfo`: in tests only "localhost" resolves, so
    no test asks a DNS server (or the internet) anything. Tests that need a name replace the seam themselves."""
    import socket

    from core import egress

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if str(host).lower().rstrip(".") == "localhost":
            return socket.getaddrinfo("127.0.0.1", port, socket.AF_INET, type, proto)
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: names do not resolve in tests")

    monkeypatch.setattr(egress, "_getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _live_tests_leave_no_rows_behind(request) -> Iterator[None]:
    """Live tests commit rows in the shared test workspace, and the servers and the real worker write more there
    (a ticket's requester and their company, the AI analysis' ledger rows and vectors, the acknowledgement emailed
    to the requester, "Individual requesters"…)
    which each test's own clean-ups cannot all know. Once the worker's analyses of the test's tickets are done, and
    after the test's own clean-ups (registered later, so run earlier), rows of those tables newer than the test's
    start are removed.

    The models are looked up by name: this is test plumbing, not a way around the apps' facades.
    """
    if "live_data" not in request.fixturenames:
        yield
        return
    live_data = request.getfixturevalue("live_data")
    marks = live_data.run(_high_water_marks)
    live_data.add_cleanup(lambda: _rows_since_deleted(marks))
    yield
    if "celery_worker" in request.fixturenames:  # no worker (the API contract's server): nothing will analyse them
        live_data.run(lambda: _analyses_awaited(marks))


# In deletion order: tickets protect their contacts, contacts their customers. The inbox's records of mail about
# those tickets name them by number only (no foreign key), so they go explicitly.
LIVE_TABLES = (
    "ai.AIRun",
    "ai.Embedding",
    "inbox.OutboundEmail",
    "inbox.InboundEmail",
    "helpdesk.Ticket",
    "customers.Contact",
    "customers.Customer",
)
ANALYSIS_WAIT_SECONDS = 60
DELETE_ATTEMPTS = 5


def _high_water_marks() -> dict[str, int]:
    return {
        label: apps.get_model(label).objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for label in LIVE_TABLES
    }


def _analyses_awaited(marks: dict[str, int]) -> None:
    """The real worker analyses new tickets: let it finish, or its ledger rows would land after the clean-up."""
    tickets = apps.get_model("helpdesk.Ticket").objects.filter(pk__gt=marks["helpdesk.Ticket"])
    deadline = time.monotonic() + ANALYSIS_WAIT_SECONDS
    while tickets.filter(ai_analysis_status="pending").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def _rows_since_deleted(marks: dict[str, int]) -> None:
    # By id, not by ticket: the test's own clean-ups have already deleted its tickets, not the vectors of them the
    # worker wrote (solved tickets are indexed for similar-ticket search).
    for label in LIVE_TABLES:
        rows = apps.get_model(label).objects.filter(pk__gt=marks[label])
        for attempt in range(DELETE_ATTEMPTS):
            try:
                rows.delete()
                break
            except IntegrityError:
                # The worker wrote a row pointing at one of these (a company's health snapshot) between the
                # delete's collection of related rows and its DELETE: collect again.
                if attempt == DELETE_ATTEMPTS - 1:
                    raise
                time.sleep(0.5)


@pytest.fixture
def public_schema(db) -> None:
    connection.set_schema_to_public()


@pytest.fixture
def client(tenant, django_db_blocker) -> Client:
    """A browser on the workspace's own host name (its host lookup warmed, so query counts are steady).

    The lookup is made afresh: an entry cached by an earlier test could expire in the middle of this one."""
    host = workspace_domain(tenant.slug)
    tenant_cache_clear()
    with django_db_blocker.unblock():
        tenant_for_hostname(host)
    return Client(HTTP_HOST=host)


@pytest.fixture
def public_client() -> Client:
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def make_user(db) -> Callable:
    from accounts.tests.factories import UserFactory

    def make(role: str = "agent", **fields):
        return UserFactory(role=role, **fields)

    return make


@pytest.fixture
def login(client, make_user) -> Callable:
    """`login("agent")` signs a new user of that role in on `client` and returns the user."""

    def sign_in(role: str = "agent", **fields):
        user = make_user(role, **fields)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def tokyo(settings):
    """The workspace's time zone set east of UTC (core.testing.zones); returns the zone."""
    from zoneinfo import ZoneInfo

    from core.testing.zones import EAST_OF_UTC

    settings.TIME_ZONE = EAST_OF_UTC
    return ZoneInfo(EAST_OF_UTC)
