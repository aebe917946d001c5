"""`migrate_schemas` skipping current schemas and schemas that do not exist yet (tenants.migration_executor)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.migration_executors import base, standard

from tenants import migration_executor
from tenants.migration_executor import get_executor, schemas_needing_migrations
from tenants.tests.test_provisioning import applied_migrations

pytestmark = pytest.mark.django_db


def forget_latest_beat_migration(schema: str) -> tuple[str, str]:
    """Makes `schema` one migration behind; a public-only app's, which replays as a recorded no-op."""
    app, name = max(pair for pair in applied_migrations(schema) if pair[0] == "django_celery_beat")
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', [app, name])
    return app, name


def test_sorts_schemas_into_to_migrate_current_and_missing(public_schema, make_workspace, make_reservation):
    behind, reservation = make_workspace(), make_reservation()
    connection.set_schema_to_public()
    forget_latest_beat_migration(behind.schema_name)
    names = ["public", settings.TENANT_BASE_SCHEMA, "t_alpha", behind.schema_name, reservation.schema_name]

    todo, current, missing = schemas_needing_migrations(names)

    assert todo == [behind.schema_name]
    assert current == ["public", settings.TENANT_BASE_SCHEMA, "t_alpha"]
    assert missing == [reservation.schema_name]


@pytest.fixture
def skip_current_executor():
    with mock.patch("django_tenants.management.commands.migrate_schemas.GET_EXECUTOR_FUNCTION", get_executor):
        yield


def test_migrate_schemas_only_migrates_schemas_that_are_behind(
    public_schema, make_workspace, make_reservation, skip_current_executor, capsys
):
    behind = make_workspace()
    make_reservation()  # a row without a schema would abort django-tenants' own run
    connection.set_schema_to_public()
    migration = forget_latest_beat_migration(behind.schema_name)

    with mock.patch.object(standard, "run_migrations", wraps=base.run_migrations) as run:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)

    assert [call.args[3] for call in run.call_args_list] == [behind.schema_name]
    assert "1 schema(s) to migrate" in capsys.readouterr().out
    connection.set_schema_to_public()
    assert migration in applied_migrations(behind.schema_name)


def test_explicit_requests_run_everywhere_as_before():
    executor = get_executor()([], {"app_label": "customers", "verbosity": 0})
    assert executor._filter(["t_alpha", "t_beta"]) == ["t_alpha", "t_beta"]


def test_wraps_every_django_tenants_executor():
    assert get_executor("multiprocessing").codename == "multiprocessing"
    assert issubclass(get_executor("standard"), migration_executor.SkipCurrentSchemas)


def test_explicit_requests_skip_rows_without_a_schema_instead_of_failing_for_everyone(
    public_schema, make_reservation, skip_current_executor
):
    reservation = make_reservation()  # django-tenants' own run stopped at it: "no schema has been selected"

    with mock.patch.object(standard, "run_migrations", wraps=base.run_migrations) as run:
        call_command("migrate_schemas", "customers", tenant=True, interactive=False, verbosity=0)

    migrated = [call.args[3] for call in run.call_args_list]
    assert "t_alpha" in migrated and reservation.schema_name not in migrated


def test_migrating_the_template_makes_its_new_script_at_once(public_schema, skip_current_executor):
    """The first sign-up after a deploy does not wait for pg_dump, which reads the whole catalog."""
    from tenants import schema_replay

    forget_latest_beat_migration(settings.TENANT_BASE_SCHEMA)
    with mock.patch.object(schema_replay, "script_for") as script_for:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    script_for.assert_called_once_with(settings.TENANT_BASE_SCHEMA)


def test_a_run_that_leaves_the_template_alone_makes_no_script(public_schema, make_workspace, skip_current_executor):
    from tenants import schema_replay

    forget_latest_beat_migration(make_workspace().schema_name)
    connection.set_schema_to_public()
    with mock.patch.object(schema_replay, "script_for") as script_for:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    script_for.assert_not_called()
