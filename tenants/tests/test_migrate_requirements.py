"""The migrate commands check the PostgreSQL server first: pointed at one without pgvector (the machine's Debian
PostgreSQL 15 on 127.0.0.1:5432), they stop before touching it, with one line saying what is missing and how to
get it, and so does `make run`'s launcher."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from core.postgres import database_problem
from core.testing.live import ROOT

SYSTEM_SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.mark.django_db
def test_the_test_server_has_everything_switchboard_needs():
    assert database_problem(connection) is None


@pytest.fixture
def server_without_pgvector() -> Iterator[str]:
    """A throwaway database on the machine's PostgreSQL 15 (no pgvector), dropped afterwards."""
    try:
        admin = psycopg.connect(f"{SYSTEM_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL without pgvector on 127.0.0.1:5432 to test against ({error})")
    name = f"switchboard_nopgvector_{uuid.uuid4().hex[:10]}"
    with admin:
        available = admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
        if available:
            pytest.skip("the PostgreSQL on 127.0.0.1:5432 has pgvector; this test needs one without")
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{SYSTEM_SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.CELERY_BROKER_URL,
    }


def _tables(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return [row[0] for row in rows]


@pytest.mark.parametrize("command", [["migrate_schemas", "--shared"], ["migrate_schemas"], ["migrate"]], ids=" ".join)
def test_migrating_a_server_without_pgvector_stops_with_one_line_before_touching_it(server_without_pgvector, command):
    result = subprocess.run(
        [sys.executable, "manage.py", *command, "--noinput"],
        cwd=ROOT,
        env=_env(server_without_pgvector),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "lacks the “vector” extension" in lines[0]
    assert "postgresql-15-pgvector" in lines[0] and "unset DATABASE_URL" in lines[0]
    assert _tables(server_without_pgvector) == []


def test_make_run_stops_at_the_same_line(server_without_pgvector, capfd):
    spec = importlib.util.spec_from_file_location("devstack_under_test", ROOT / "scripts" / "devstack.py")
    devstack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(devstack)
    services = SimpleNamespace(env=_env(server_without_pgvector))

    with pytest.raises(devstack.StepFailed, match=r"manage\.py migrate_schemas failed"):
        devstack.manage(services, "migrate_schemas", "--shared", "--verbosity", "0")

    captured = capfd.readouterr()
    assert "postgresql-15-pgvector" in captured.err and "Traceback" not in captured.err
