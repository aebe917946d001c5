"""Fixtures for tests that need the real stack: a live ASGI server, a real Celery worker, a browser.

Loaded as a pytest plugin by the root conftest. The session fixtures start each server once per
test process; tests that use them carry `@pytest.mark.xdist_group("live")` so one process does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from .browser import CHROMIUM, launch_chromium, requests_answered
from .live import (
    BIN,
    CeleryWorker,
    LiveData,
    LiveStack,
    RedisDatabases,
    RedisServer,
    ServerProcess,
    database_url,
    free_port,
    run_in_thread,
    server_env,
)

LIVE_WORKSPACE = "alpha"
LIVE_FIXTURES = {"celery_worker", "live_stack", "live_data", "live_api_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the live stack get the `django_db` mark, so pytest-django sets up the test database.

    pytest-django creates it only when a collected test asks for the database; a run of browser tests
    alone would otherwise point the servers (and the root conftest's workspace set-up) at the development
    database. The test's own transaction stays empty: its rows come from `live_data`, committed elsewhere.
    """
    missing = f"Browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium"
    if not CHROMIUM.exists() and _in_ci() and any("browser" in getattr(item, "fixturenames", ()) for item in items):
        # In CI a skipped browser suite would pass unnoticed: the run fails instead.
        raise pytest.UsageError(f"CI=true and chromium is missing. {missing}")
    no_chromium = pytest.mark.skip(reason=missing)
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if LIVE_FIXTURES & fixtures and not item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.django_db)
        if "browser" in fixtures and not CHROMIUM.exists():
            item.add_marker(no_chromium)  # at collection, so no worker or daphne starts for nothing
    _group_for_xdist(config, items)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _group_for_xdist(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Makes `--dist loadgroup` send each `xdist_group` to one worker process again.

    pytest-xdist 3.8 groups by appending "@<group>" to `item._nodeid`, but pytest 9 keeps the id in
    `item._id`, so nothing was grouped and every worker process started its own Celery worker and
    daphne. This does the renaming xdist means to do (only inside xdist workers, only if not done).
    """
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest < 9: xdist's own renaming works
        return

    for item in items:
        groups = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        suffix = "@" + "_".join(sorted(groups))
        if groups and not item.nodeid.endswith(suffix) and isinstance(getattr(item, "_id", None), NodeId):
            item._id = NodeId.parse(item.nodeid + suffix)


def _test_database_url() -> str:
    """The URL of the test database, refusing anything else: the live servers write to what they are given."""
    settings_dict = connection.settings_dict
    test_name = settings_dict.get("TEST", {}).get("NAME")
    if settings_dict["NAME"] != test_name and not (test_name is None and settings_dict["NAME"].startswith("test_")):
        raise RuntimeError(f"Refusing to start live servers on {settings_dict['NAME']!r}: it is not the test database.")
    return database_url(settings_dict)


@pytest.fixture
def channels_db(db, monkeypatch) -> None:
    """Websocket tests see the test transaction.

    Run the async scenario with `async_to_sync` from the (sync) test: `database_sync_to_async` is
    thread-sensitive, so it then runs on this thread and its connection. It also calls
    `close_old_connections()` around every call, which would close that connection in the middle
    of the test transaction (autocommit is off there), so it is made a no-op for the test.
    """
    import channels.db

    monkeypatch.setattr(channels.db, "close_old_connections", lambda **kwargs: None)


# --- Redis, Celery, daphne -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_databases() -> Iterator[RedisDatabases]:
    databases = RedisDatabases(settings.REDIS_URL)
    yield databases
    databases.release_all()


@pytest.fixture(scope="session")
def live_log_dir(tmp_path_factory) -> Path:
    """The servers' logs; a start-up failure or timeout quotes their tail."""
    return tmp_path_factory.mktemp("live-stack")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, redis_databases, live_log_dir) -> Iterator[CeleryWorker]:
    """A real worker on the test database, started once per session and stopped before the database goes."""
    redis_url = redis_databases.lease()
    env = server_env(database=_test_database_url(), redis_url=redis_url)
    worker = CeleryWorker.start(env=env, redis_url=redis_url, log_dir=live_log_dir)
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def idle_redis_url(redis_databases) -> str:
    """A flushed Redis database no worker listens on."""
    return redis_databases.lease()


@pytest.fixture
def live_celery(settings, celery_worker) -> Iterator[CeleryWorker]:
    """This test's Celery (not eager), cache and channel layer use the real worker's Redis database."""
    _use_redis(settings, celery_worker.redis_url)
    yield celery_worker
    _forget_celery_connections()


@pytest.fixture
def no_celery_worker(settings, idle_redis_url) -> Iterator[str]:
    """Like `live_celery`, but on a Redis database no worker consumes: what production sees when workers are down."""
    _use_redis(settings, idle_redis_url)
    yield idle_redis_url
    _forget_celery_connections()


def _use_redis(settings, url: str) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = url
    settings.CELERY_RESULT_BACKEND = url
    # The servers run the real settings, without the test settings' per-run KEY_PREFIX; the leased
    # database already keeps this session apart, and keys must match what the worker writes.
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url, "KEY_PREFIX": ""}}
    settings.CHANNEL_LAYERS = {"default": {**settings.REDIS_CHANNEL_LAYERS["default"], "CONFIG": {"hosts": [url]}}}
    _forget_celery_connections()


def _forget_celery_connections() -> None:
    from config.celery import app

    from .live import celery_reset_connections

    celery_reset_connections(app)


@pytest.fixture(scope="session")
def own_redis(live_log_dir) -> Iterator[RedisServer]:
    """A redis-server of this test process's own, which fault tests pause and resume."""
    server = RedisServer.start(log_dir=live_log_dir)
    yield server
    server.stop()


@dataclass
class RedisOutage:
    """The test's cache, broker, result backend and channel layer on `own_redis`, until the test breaks it."""

    server: RedisServer
    settings: Any

    def refuse(self) -> None:
        """Everything pointed at a port nothing listens on: connections are refused at once."""
        _use_redis(self.settings, f"redis://127.0.0.1:{free_port()}/0")

    def hang(self) -> None:
        """The server stopped (SIGSTOP): the kernel still accepts connections, nothing ever answers."""
        self.server.pause()

    def end(self) -> None:
        """Redis answers again, at the address the test started with."""
        self.server.resume()
        _use_redis(self.settings, self.server.url)


@pytest.fixture
def redis_outage(settings, own_redis) -> Iterator[RedisOutage]:
    own_redis.resume()
    own_redis.flush()
    _use_redis(settings, own_redis.url)
    yield RedisOutage(server=own_redis, settings=settings)
    own_redis.resume()  # whatever the test did, the next one finds it answering
    _forget_celery_connections()


@pytest.fixture(scope="session")
def live_stack(celery_worker, live_log_dir) -> Iterator[LiveStack]:
    """daphne with the real settings on the test database, the Redis channel layer and the session's worker."""
    env = server_env(database=_test_database_url(), redis_url=celery_worker.redis_url)
    stack = LiveStack.start(env=env, worker=celery_worker, log_dir=live_log_dir)
    yield stack
    stack.stop()


@dataclasses.dataclass(frozen=True)
class SplitStack:
    """The stack as `make run` splits it: `pages` served by gunicorn, `sockets` by a daphne of their own."""

    pages: LiveStack
    sockets: LiveStack


@pytest.fixture(scope="session")
def gunicorn_stack(live_stack, live_log_dir) -> Iterator[SplitStack]:
    """Pages from gunicorn (config.wsgi) reach their websockets on another daphne through LIVE_SOCKET_PORT; that
    daphne takes sockets from gunicorn's pages (LIVE_SOCKET_ORIGIN_PORTS), as `make run` configures them.

    Started once per session, like `live_stack` (the tests that use it make their rows through `live_data`)."""
    page_port = free_port()
    env = server_env(database=_test_database_url(), redis_url=live_stack.redis_url)
    sockets = LiveStack.start(
        env=env | {"LIVE_SOCKET_ORIGIN_PORTS": str(page_port)}, worker=live_stack.worker, log_dir=live_log_dir
    )
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{page_port}", "--worker-class", "gthread", "--threads", "2"]
    server = ServerProcess.start(
        "gunicorn",
        [*args, "config.wsgi:application"],
        env=env | {"LIVE_SOCKET_PORT": str(sockets.port)},
        log_dir=live_log_dir,
    )
    pages = dataclasses.replace(live_stack, port=page_port, server=server)
    try:
        server.wait_until(pages.serves_http, what="serving HTTP", timeout=60)
        yield SplitStack(pages=pages, sockets=sockets)
    finally:
        server.stop()
        sockets.stop()


@pytest.fixture(scope="session")
def live_api_server(django_db_setup, redis_databases, live_log_dir) -> Iterator[LiveStack]:
    """gunicorn for API contract tests (config/tests/test_api_contract.py), as `make run` serves HTTP (daphne only
    carries websockets there, and Twisted under it answers some malformed uploads itself, with an empty 400).

    Real settings on the test database, and no Celery worker: the hundreds of tickets a run creates queue their
    tasks in a leased Redis database nobody consumes instead of keeping a worker busy. The rate limit is out of
    the way (429 is tested on its own), uploads land where the test process keeps them, e-mails stay in memory."""
    redis_url = redis_databases.lease()
    env = server_env(database=_test_database_url(), redis_url=redis_url) | {
        "API_THROTTLE_RATE": "100000/min",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    port = free_port()
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--threads", "4"]
    args += ["--worker-class", "gthread", "--access-logfile", "-", "config.wsgi:application"]
    server = ServerProcess.start("gunicorn-api", args, env=env, log_dir=live_log_dir)
    stack = LiveStack(port=port, redis_url=redis_url, server=server, worker=None)
    server.wait_until(stack.serves_http, what="serving HTTP", timeout=60)
    yield stack
    stack.stop()


@pytest.fixture
def live_data(django_db_setup, django_db_blocker) -> Iterator[LiveData]:
    """Committed rows in workspace "alpha" for the live server, deleted after the test.

    Create every row the servers should see through this, never with the ORM in the test itself:
    the test's own connection is inside an uncommitted transaction that daphne cannot see. A test that changes
    the workspace's configuration this way (SLA policies, helpdesk settings) also asks for `live_celery`, so the
    change renews the servers' copies through the cache they share (core.workspace_config).
    """
    from django_tenants.utils import get_tenant_model

    _test_database_url()
    with django_db_blocker.unblock():
        tenant = run_in_thread(lambda: get_tenant_model().objects.get(slug=LIVE_WORKSPACE))
    data = LiveData(tenant=tenant, unblock=django_db_blocker.unblock)
    yield data
    data.clean_up()


# --- Browser -------------------------------------------------------------------------------------


class ChromiumSession:
    """Playwright and one Debian chromium for the whole test process; each test gets fresh contexts in it.

    Playwright's sync API keeps its event loop marked as running on this thread between calls, and Django refuses
    ORM calls (and asgiref `async_to_sync`) under a running loop, which would break the next non-browser test in this
    process. So the loop is marked running only while a browser test runs (`lend`), and unmarked after (`park`):
    between browser tests nothing runs on it (its dispatcher only runs inside a sync call).
    """

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._manager = sync_playwright()
        self.playwright = self._manager.start()
        self.loop = self._manager._loop
        self.chromium = launch_chromium(self.playwright)

    def lend(self) -> Any:
        """The browser, for one test: a new one if the last crashed or was closed."""
        asyncio._set_running_loop(self.loop)
        if not self.chromium.is_connected():
            self.chromium = launch_chromium(self.playwright)
        return self.chromium

    def park(self) -> None:
        """Closes what the test opened (its contexts: cookies, storage, pages), once their requests are answered,
        and unmarks the loop."""
        try:
            for context in list(self.chromium.contexts):
                requests_answered(context)
                context.close()
        finally:
            asyncio._set_running_loop(None)

    def close(self) -> None:
        asyncio._set_running_loop(self.loop)
        try:
            if self.chromium.is_connected():
                self.chromium.close()
        finally:
            self._manager.__exit__(None, None, None)
            asyncio._set_running_loop(None)


@pytest.fixture(scope="session")
def chromium_session() -> Iterator[ChromiumSession]:
    session = ChromiumSession()
    session.park()
    yield session
    session.close()


@pytest.fixture
def browser(live_stack, chromium_session):
    """Debian's chromium driven by Playwright (skipped at collection when chromium is missing).

    Launched once per test process (ChromiumSession), not per test: a launch and Playwright's driver start cost
    about a second each time. Every test starts with no context open and closes those it opened, so no cookie,
    storage or page of one test reaches the next, as with a browser of its own.
    """
    try:
        yield chromium_session.lend()
    finally:
        chromium_session.park()


# --- Redis breakers --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _redis_breakers_closed() -> Iterator[None]:
    """A test that made a Redis server look unreachable must not leave the next test skipping it (core.breaker)."""
    yield
    from core.breaker import breakers_reset

    breakers_reset()


@pytest.fixture(autouse=True)
def _workspace_config_copies_dropped() -> Iterator[None]:
    """A test's rolled-back writes send no commit signal: its copies of workspace configuration must not outlive
    it (core.workspace_config)."""
    yield
    from core.workspace_config import workspace_config_clear

    workspace_config_clear()


@pytest.fixture
def api_rate_limit(settings, monkeypatch) -> Callable[[str], None]:
    """`api_rate_limit("3/min")`: the API throttle at that rate, counting in a window of its own that the test's
    calls never leave (no window boundary mid-test) and no earlier run counted in (counters outlive a test)."""
    from core.api.throttling import TenantUserRateThrottle

    def limit(rate: str) -> None:
        settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"tenant_user": rate}}
        window = random.randrange(10**9, 10**10)
        monkeypatch.setattr(TenantUserRateThrottle, "timer", lambda self: window * 86_400.0 + 1)

    return limit
