"""PostgreSQL restarted under load: the servers' connections recover and no request hangs past its timeout.

A PostgreSQL cluster of this test's own (var/pg-restart, kept between runs) serves daphne (the ASGI process, which
borrows connections from psycopg's pool: DB_POOL) and gunicorn (threads keeping persistent connections, checked by
CONN_HEALTH_CHECKS). Clients call /healthz on both without pause while the cluster is restarted with
`pg_ctl restart -m fast`, which terminates every connection. Every request must be answered within its timeout (a
clean 503 naming the database while it is away), and the database check must pass again right after the restart.

Redis is pointed at a closed port so that every other check fails at once and the probe stays cheap (the cache
then falls back to the same database, which this exercises too).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from core.testing.live import BIN, ServerProcess, ThrowawayPostgres, free_port, server_env

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("postgres-restart")]

PGDATA = Path(settings.BASE_DIR) / "var" / "pg-restart"
DATABASE = "switchboard"
CLIENT_TIMEOUT = 10.0  # what a client (or a load balancer) would wait
ANSWER_WITHIN = 3.0  # the probe's own deadline is 1.5 s
# psycopg's pool retries a failed connection after 1 s, then 2 s…: after a 2 s outage it is back within about 2 s.
RECONNECT_WITHIN = 2.5
# Only the apps /healthz touches on the public host: workspaces and hosts, the cache's fallback table.
PREPARE = """
from django.core.management import call_command
for app in ("tenants", "core"):
    call_command("migrate_schemas", app, shared=True, verbosity=0)
from tenants.models import Domain, Tenant
public, _ = Tenant.objects.get_or_create(
    schema_name="public",
    defaults={"name": "Switchboard", "slug": "public-site", "status": "active", "type": Tenant.Type.PLATFORM},
)
Domain.objects.get_or_create(domain="localhost", defaults={"tenant": public, "is_primary": True})
"""


def _migrations_digest() -> str:
    digest = hashlib.sha256(PREPARE.encode())
    for app in ("tenants", "core"):
        for path in sorted((Path(settings.BASE_DIR) / app / "migrations").glob("*.py")):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Iterator[tuple[ThrowawayPostgres, dict[str, str]]]:
    cluster = ThrowawayPostgres.start(PGDATA)
    try:
        env = server_env(database=cluster.ensure_database(DATABASE), redis_url=f"redis://127.0.0.1:{free_port()}/0")
        marker = PGDATA.parent / f"pg-restart.{_migrations_digest()}.prepared"
        if not marker.exists():  # first run, or the migrations changed
            log_dir = tmp_path_factory.mktemp("pg-restart-prepare")
            prepare = ServerProcess.start("prepare", [str(BIN / "python"), "manage.py", "shell", "-c", PREPARE],
                                          env=env, log_dir=log_dir)  # fmt: skip
            assert prepare.process.wait(300) == 0, prepare.log_tail()
            for old in PGDATA.parent.glob("pg-restart.*.prepared"):
                old.unlink()
            marker.touch()
        yield cluster, env
    finally:
        cluster.stop()


@dataclass
class Answer:
    server: str
    started: float
    seconds: float
    status: int | None = None
    database_ok: bool | None = None
    error: str = ""


def _probe(server: str, port: int) -> Answer:
    started = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
        conn.request("GET", "/healthz", headers={"Host": "localhost"})
        response = conn.getresponse()
        body = json.loads(response.read())
        return Answer(server, started, time.monotonic() - started, response.status, body["checks"]["database"]["ok"])
    except Exception as error:  # a reset, a timeout, a non-JSON page: all failures of this test
        return Answer(server, started, time.monotonic() - started, error=f"{type(error).__name__}: {error}")


def test_requests_during_a_postgres_restart_are_answered_in_time_and_later_ones_succeed(postgres, tmp_path):
    cluster, env = postgres
    ports = {"daphne": free_port(), "gunicorn": free_port()}
    commands = {
        "daphne": [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(ports["daphne"]), "config.asgi:application"],
        "gunicorn": [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{ports['gunicorn']}", "--workers", "1",
                     "--threads", "4", "--worker-class", "gthread", "config.wsgi:application"],
    }  # fmt: skip
    servers = {name: ServerProcess.start(name, args, env=env, log_dir=tmp_path) for name, args in commands.items()}
    answers: list[Answer] = []
    stop = threading.Event()

    def hammer(server: str) -> None:
        while not stop.is_set():
            answers.append(_probe(server, ports[server]))

    try:
        for name, server in servers.items():
            answering = lambda name=name: _probe(name, ports[name]).database_ok is True  # noqa: E731
            server.wait_until(answering, what="/healthz with the database up", timeout=60)
        clients = [threading.Thread(target=hammer, args=(name,)) for name in servers for _ in range(2)]
        for client in clients:
            client.start()
        time.sleep(0.5)  # traffic on warm connections first
        restart_began = time.monotonic()
        cluster.restart()  # seconds: every connection is terminated, the server accepts new ones at once
        restarted = time.monotonic()
        time.sleep(1.5)
        outage_began = time.monotonic()
        cluster.stop()  # a slower restart: away for two seconds (a failover, a restart with crash recovery)
        stopped = time.monotonic()
        time.sleep(2.0)
        starting = time.monotonic()
        cluster.start_again()
        back = time.monotonic()
        time.sleep(3.0)  # traffic after it is back
        stop.set()
        for client in clients:
            client.join(CLIENT_TIMEOUT + 5)
        for server in servers.values():
            server.assert_running()
    finally:
        stop.set()
        for server in servers.values():
            server.stop()

    assert [answer for answer in answers if answer.error] == []
    assert max(answer.seconds for answer in answers) < ANSWER_WITHIN
    assert {answer.status for answer in answers} <= {200, 503}  # never a 500 or a debug page
    # While it was away, answers said so (a clean 503 naming the database), none claimed it was fine.
    timeline = [(a.server, round(a.started - outage_began, 2), round(a.seconds, 2), a.database_ok) for a in answers]
    phases = f"stopped +{stopped - outage_began:.2f} s, back +{back - outage_began:.2f} s"
    print(phases, "(server, started, seconds, database ok):", *timeline, file=sys.stderr)
    asked_and_answered_while_down = [a for a in answers if stopped <= a.started and a.started + a.seconds <= starting]
    assert not any(a.database_ok for a in asked_and_answered_while_down), timeline
    assert any(a.database_ok is False for a in answers if stopped <= a.started + a.seconds <= starting), timeline
    for name in servers:
        mine = [answer for answer in answers if answer.server == name]
        before = [a for a in mine if a.started + a.seconds < restart_began]
        after_restart = [a for a in mine if restarted <= a.started and a.started + a.seconds < outage_began]
        after_outage = [a for a in mine if a.started >= back + RECONNECT_WITHIN]
        assert before and all(a.database_ok for a in before), name
        assert after_restart and all(a.database_ok for a in after_restart), (name, after_restart)
        assert len(after_outage) >= 3 and all(a.database_ok for a in after_outage), (name, after_outage)
