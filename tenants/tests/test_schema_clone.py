"""Cloning the template, where it is not replayed: no fake migrate, real migrations for what the template lacks,
the SQL function made once."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.clone import CloneSchema

from tenants import schema_clone
from tenants.tests.test_provisioning import applied_migrations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clone_not_replay(settings) -> None:
    """The fallback path: where no script of the template can be had (tenants/schema_replay.py)."""
    settings.TENANT_SCHEMA_PG_DUMP = "off"


def test_a_current_template_needs_no_migrate_run(make_workspace):
    with mock.patch.object(schema_clone, "call_command") as migrate:
        workspace = make_workspace()
    migrate.assert_not_called()
    assert schema_clone.migrations_missing(workspace.schema_name) == set()


def test_migrations_the_template_lacks_are_applied_for_real(make_workspace, public_schema, caplog):
    """Code deployed before the template was migrated: the new workspace still gets every migration."""
    connection.set_schema_to_public()
    app, name = max(
        (app, name) for app, name in applied_migrations(settings.TENANT_BASE_SCHEMA) if app == "django_celery_beat"
    )
    # A public-only app: re-applying its migration in a workspace schema is a recorded no-op, safe to replay.
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations WHERE app = %s AND name = %s', [app, name]
        )

    workspace = make_workspace()

    connection.set_schema_to_public()
    assert (app, name) not in applied_migrations(settings.TENANT_BASE_SCHEMA)
    assert (app, name) in applied_migrations(workspace.schema_name)
    assert "lacks" in caplog.text and name in caplog.text


def test_the_clone_function_is_created_once_per_version(make_workspace):
    make_workspace()
    assert schema_clone._clone_function_version() == schema_clone.CLONE_FUNCTION_VERSION
    with mock.patch.object(CloneSchema, "_create_clone_schema_function") as recreate:
        make_workspace()
    recreate.assert_not_called()


def test_an_outdated_clone_function_is_replaced(make_workspace, public_schema):
    make_workspace()
    with connection.cursor() as cursor:
        cursor.execute("COMMENT ON FUNCTION public.clone_schema(text, text, public.cloneparms[]) IS 'old version'")
    make_workspace()
    assert schema_clone._clone_function_version() == schema_clone.CLONE_FUNCTION_VERSION


def test_an_existing_schema_is_left_alone(tenant, public_schema):
    with mock.patch.object(schema_clone.TemplateClone, "clone_schema") as clone:
        assert schema_clone.workspace_schema_create(tenant) is False
    clone.assert_not_called()


def _columns_and_indexes(schema: str) -> tuple[set, set]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
            [schema],
        )
        columns = set(cursor.fetchall())
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", [schema])
        indexes = {(name, definition.replace(f"{schema}.", "<schema>.")) for name, definition in cursor.fetchall()}
    return columns, indexes


@pytest.mark.django_db
def test_a_cloned_workspace_has_the_templates_exact_column_types_and_indexes(make_workspace):
    """Type modifiers included: a pgvector column must stay vector(384), or its HNSW index cannot exist."""
    workspace = make_workspace()
    connection.set_schema_to_public()
    template_columns, template_indexes = _columns_and_indexes("tenant_template")
    columns, indexes = _columns_and_indexes(workspace.schema_name)

    assert ("ai_embedding", "vector", "vector(384)") in columns
    assert columns == template_columns
    assert indexes == template_indexes
