"""`migrate_schemas` that skips schemas already current, and schemas that do not exist (yet).

Enabled with `GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"`; works with every
django-tenants executor (`--executor=standard|multiprocessing`).

Why: django-tenants runs Django's whole `migrate` in every schema even when there is nothing to do:
loading the graph, rendering model states, introspecting tables and post_migrate re-checking every
content type and permission, about 400 ms per schema, so 200 workspaces cost over a minute and a half
on every deploy. One query on a schema's `django_migrations` tells whether the code's latest migration
of every app is there. And a workspace row whose schema is missing (sign-up still provisioning, or
failed before the clone) or unusable (a schema without `django_migrations`: not a clone of the template)
would otherwise abort the whole run with "no schema has been selected to create in": such rows are skipped
even when the operator asks for something specific (an app label, --fake...), which django-tenants' own
executor then runs everywhere else. tenants_provisioning_sweep removes those rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.migration_executors import get_executor as django_tenants_get_executor
from django_tenants.utils import get_public_schema_name, quote_schema_name

from core.postgres import database_problem

from .schema_clone import code_migration_leaves
from .schema_replay import template_script_prepare

logger = logging.getLogger(__name__)

# With any of these the operator asked for something specific: run it everywhere, as django-tenants does.
EXPLICIT_OPTIONS = ("app_label", "migration_name", "fake", "fake_initial", "plan", "prune", "run_syncdb")


def _existing_schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def _has_migrations_table(schema_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"{quote_schema_name(schema_name)}.django_migrations"])
        return cursor.fetchone()[0] is not None


def _is_current(schema_name: str, leaves: frozenset[tuple[str, str]]) -> bool:
    if not _has_migrations_table(schema_name):
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quote_schema_name(schema_name)}.django_migrations")
        return leaves <= set(cursor.fetchall())


def schemas_needing_migrations(schema_names: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """(to migrate, already current, missing or unusable), each in the given order."""
    connection.set_schema_to_public()
    existing, leaves = _existing_schemas(), code_migration_leaves()
    # Only these two start empty and are migrated from nothing; a workspace schema is always a clone.
    built_by_migrating = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
    todo, current, missing = [], [], []
    for name in schema_names:
        if name not in built_by_migrating and (name not in existing or not _has_migrations_table(name)):
            missing.append(name)
        elif _is_current(name, leaves):
            current.append(name)
        else:
            todo.append(name)
    return todo, current, missing


def _require_a_suitable_server() -> None:
    """Stops `migrate`/`migrate_schemas` with one line before anything runs on a server that cannot hold us
    (no pgvector: a raw `type "vector" does not exist` traceback half-way through otherwise)."""
    problem = database_problem(connection)
    if problem:
        raise CommandError(problem)


class SkipCurrentSchemas:
    """Mixin for a django-tenants MigrationExecutor; filters the schemas before the base class runs them."""

    options: dict[str, Any]

    def _filter(self, schema_names: list[str]) -> list[str]:
        _require_a_suitable_server()
        todo, current, missing = schemas_needing_migrations(schema_names)
        if missing:
            logger.warning("skipping workspaces without a usable schema (being set up, or failed): %s", missing)
        if any(self.options.get(option) for option in EXPLICIT_OPTIONS):
            return [name for name in schema_names if name not in missing]
        if int(self.options.get("verbosity", 1)) >= 1:
            print(
                f"migrate_schemas: {len(todo)} schema(s) to migrate, {len(current)} already current, "
                f"{len(missing)} without a schema"
            )
        return todo

    def run_migrations(self, tenants: list[str] | None = None) -> None:
        todo = self._filter(list(tenants or []))
        super().run_migrations(tenants=todo)
        self._template_script_prepare(todo)

    def run_multi_type_migrations(self, tenants: list[tuple[str, str]]) -> None:
        tenants = list(tenants)
        keep = set(self._filter([schema for schema, _ in tenants]))
        super().run_multi_type_migrations([tenant for tenant in tenants if tenant[0] in keep])
        self._template_script_prepare(keep)

    def _template_script_prepare(self, migrated: Iterable[str]) -> None:
        """The template changed: its new script is made now, by the deploy, not by the next sign-up (pg_dump reads
        the whole catalog: seconds with a thousand workspaces)."""
        if settings.TENANT_BASE_SCHEMA in migrated:
            template_script_prepare(settings.TENANT_BASE_SCHEMA)


def get_executor(codename: str | None = None) -> type:
    base = django_tenants_get_executor(codename)
    return type(f"SkipCurrent{base.__name__}", (SkipCurrentSchemas, base), {})
