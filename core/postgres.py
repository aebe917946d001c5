"""What Switchboard needs of its PostgreSQL server (version, extensions), checked before any migration runs.

Without the check, a server lacking pgvector let core's first migration pass with a warning, and a later one died
with a raw `type "vector" does not exist` traceback, half-way through. `database_problem` says in one sentence what
is missing and how to get it; the migrate commands (tenants.migration_executor) stop on it before touching anything.
"""

from __future__ import annotations

from django.db import DatabaseError, NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper

# Django 5.2's own floor.
MIN_MAJOR_VERSION = 14
# Every CREATE EXTENSION the migrations run (core/migrations/0001_postgres_extensions.py).
REQUIRED_EXTENSIONS = ("vector", "pg_trgm", "btree_gin")
EMBEDDED = "or unset DATABASE_URL to use the embedded PostgreSQL 18 (with pgvector) that `make run` starts"


def _where(connection: BaseDatabaseWrapper) -> str:
    settings = connection.settings_dict
    host = settings.get("HOST") or "the local socket"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"{host}{port}"


def _how_to_get(extension: str, major: int) -> str:
    if extension == "vector":
        return f"the pgvector package for PostgreSQL {major} (Debian/Ubuntu: postgresql-{major}-pgvector)"
    return f"PostgreSQL's contrib modules (in postgresql-{major} on Debian/Ubuntu, postgresql{major}-contrib elsewhere)"


def database_problem(connection: BaseDatabaseWrapper) -> str | None:
    """Why this server cannot hold Switchboard, in one sentence; None when it can."""
    where = _where(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version_num')::int, current_setting('server_version')")
            number, version = cursor.fetchone()
            cursor.execute("SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", [list(REQUIRED_EXTENSIONS)])
            available = {row[0] for row in cursor.fetchall()}
    except NotSupportedError as error:  # Django refuses servers older than it supports, on connect
        return f"The PostgreSQL server at {where} is too old ({error}); upgrade it, {EMBEDDED}."
    except DatabaseError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"Cannot use the PostgreSQL server at {where} ({first_line}); check DATABASE_URL, {EMBEDDED}."
    major = number // 10000
    if major < MIN_MAJOR_VERSION:
        return f"PostgreSQL {version} at {where} is too old: Switchboard needs {MIN_MAJOR_VERSION}+, {EMBEDDED}."
    missing = [extension for extension in REQUIRED_EXTENSIONS if extension not in available]
    if missing:
        names = " and ".join(f"“{name}”" for name in missing)
        packages = "; ".join(dict.fromkeys(_how_to_get(name, major) for name in missing))
        return (
            f"PostgreSQL {version.split()[0]} at {where} lacks the {names} extension{'s' if len(missing) > 1 else ''}: "
            f"install {packages} and run again, {EMBEDDED}."
        )
    return None
