"""Workspace schemas made by replaying the template's script: the same structure and rows as the migrated template,
one script per migration state of the template, cloning where no script can be had."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from unittest import mock

import psycopg
import pytest
from django.db import connection

from tenants import schema_clone, schema_replay
from tenants.models import SchemaScript
from tenants.tests.conftest import unique_slug
from tenants.tests.test_provisioning import applied_migrations
from tenants.tests.test_provisioning_recovery import raw_connection
from tenants.validators import schema_name_for_slug

pytestmark = pytest.mark.django_db

# Everything a schema holds, in forms that do not depend on its name (each <schema> stands for it).
STRUCTURE = {
    "columns": """
        SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = %(schema)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.connamespace = %(schema)s::regnamespace""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, increment_by, min_value, max_value, cycle
        FROM pg_sequences WHERE schemaname = %(schema)s""",
    "functions": """
        SELECT proname, pg_get_function_arguments(oid), pg_get_function_result(oid), prosrc
        FROM pg_proc WHERE pronamespace = %(schema)s::regnamespace""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = %(schema)s::regnamespace AND NOT t.tgisinternal""",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = %(schema)s",
}


def reparsed(definition: str) -> str:
    """A definition as PostgreSQL prints it after parsing its own printout once more, as any dump and restore does:
    `(ARRAY['a'::character varying])::text[]` comes back as `ARRAY[('a'::character varying)::text]`, the same
    constant once planned. Both are written here as `ARRAY['a'::text]`."""
    definition = re.sub(r"\('((?:[^']|'')*)'::character varying\)::text", r"'\1'::text", definition)
    return re.sub(
        r"\(ARRAY\[([^\]]*)\]\)::text\[\]",
        lambda match: "ARRAY[" + match.group(1).replace("::character varying", "::text") + "]",
        definition,
    )


def _anonymous(value: object, schema: str) -> object:
    return reparsed(value.replace(f"{schema}.", "<schema>.")) if isinstance(value, str) else value


def structure(schema: str) -> dict[str, set[tuple]]:
    anonymous = {}
    with connection.cursor() as cursor:
        for part, query in STRUCTURE.items():
            cursor.execute(query, {"schema": schema})
            anonymous[part] = {tuple(_anonymous(value, schema) for value in row) for row in cursor.fetchall()}
    return anonymous


def rows(schema: str, table: str, columns: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {columns} FROM "{schema}".{table} ORDER BY {columns}')
        return cursor.fetchall()


@pytest.fixture
def replayed_only() -> Iterator[None]:
    """Fails the test if the template is cloned instead of replayed."""
    with mock.patch.object(schema_clone.TemplateClone, "clone_schema", side_effect=AssertionError("cloned")):
        yield


def test_a_replayed_workspace_has_the_structure_and_rows_of_the_migrated_template(
    make_workspace, replayed_only, settings
):
    workspace = make_workspace()

    connection.set_schema_to_public()
    template = structure(settings.TENANT_BASE_SCHEMA)
    assert len(template["columns"]) > 500 and template["indexes"] and template["functions"] and template["triggers"]
    replayed = structure(workspace.schema_name)
    for part in STRUCTURE:
        assert replayed[part] == template[part], part
    assert applied_migrations(workspace.schema_name) == applied_migrations(settings.TENANT_BASE_SCHEMA)
    for table, columns in {"django_content_type": "app_label, model", "auth_permission": "codename"}.items():
        assert rows(workspace.schema_name, table, columns) == rows(settings.TENANT_BASE_SCHEMA, table, columns)


def test_the_script_is_made_once_for_many_workspaces(make_workspace, replayed_only, public_schema):
    SchemaScript.objects.all().delete()  # as after a deploy with new migrations
    with mock.patch.object(schema_replay, "script_dump", wraps=schema_replay.script_dump) as dump:
        make_workspace()
        make_workspace()
    assert dump.call_count == 1
    assert SchemaScript.objects.count() == 1


def test_replaying_leaves_the_connections_settings_as_they_were(public_schema, throwaway_slugs, settings):
    """pg_dump's script empties search_path and turns check_function_bodies off for itself only."""
    throwaway_slugs.append(slug := unique_slug())
    parts = schema_replay.script_for(settings.TENANT_BASE_SCHEMA)
    settings_now = "SELECT current_setting('search_path'), current_setting('check_function_bodies')"
    with connection.cursor() as cursor:
        cursor.execute(settings_now)
        before = cursor.fetchone()
        schema_replay.schema_replay(parts, template=settings.TENANT_BASE_SCHEMA, schema=schema_name_for_slug(slug))
        cursor.execute(settings_now)
        assert cursor.fetchone() == before == ("public", "on")


def test_without_pg_dump_to_make_the_script_the_template_is_cloned(make_workspace, settings, public_schema, caplog):
    settings.TENANT_SCHEMA_PG_DUMP = str(settings.BASE_DIR / "no-such-pg_dump")
    SchemaScript.objects.all().delete()
    clone = schema_clone.TemplateClone().clone_schema
    with mock.patch.object(schema_clone.TemplateClone, "clone_schema", wraps=clone) as cloned:
        workspace = make_workspace()
    cloned.assert_called_once()
    assert applied_migrations(workspace.schema_name) == applied_migrations(settings.TENANT_BASE_SCHEMA)
    assert "cloning tenant_template instead of replaying its script: pg_dump did not run" in caplog.text


def test_a_stored_script_is_replayed_without_pg_dump(make_workspace, replayed_only, settings):
    """Made once by a process that has pg_dump, then replayed by every process."""
    make_workspace()
    settings.TENANT_SCHEMA_PG_DUMP = str(settings.BASE_DIR / "no-such-pg_dump")
    make_workspace()


def test_off_clones_even_with_a_stored_script(make_workspace, settings):
    make_workspace()
    settings.TENANT_SCHEMA_PG_DUMP = "off"
    clone = schema_clone.TemplateClone().clone_schema
    with mock.patch.object(schema_clone.TemplateClone, "clone_schema", wraps=clone) as cloned:
        make_workspace()
    cloned.assert_called_once()


def test_a_template_being_migrated_is_cloned_not_replayed_from_a_stale_script(make_workspace, public_schema, caplog):
    """This transaction sees a migration state pg_dump (committed data only) cannot: no script is made from it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenant_template.django_migrations (app, name, applied) VALUES ('tenants', '9999_x', now())"
        )
    clone = schema_clone.TemplateClone().clone_schema
    with mock.patch.object(schema_clone.TemplateClone, "clone_schema", wraps=clone) as cloned:
        workspace = make_workspace()
    cloned.assert_called_once()
    assert ("tenants", "9999_x") in applied_migrations(workspace.schema_name)
    assert "the template is being migrated" in caplog.text


# --- A template whose migration state changes, committed (pg_dump reads committed data only) -------


@pytest.fixture(scope="session")
def committed_template(django_db_setup, django_db_blocker) -> Iterator[tuple[str, psycopg.Connection]]:
    """A copy of the template committed outside the tests' transactions; dropped when they are all over."""
    name = f"tmpl_{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        parts = schema_replay.script_for("tenant_template")
        outside = raw_connection(autocommit=True)
        template, copy = schema_replay.quote_ident("tenant_template"), schema_replay.quote_ident(name)
    with outside.transaction():
        schema_replay.script_run(outside.cursor(), parts, template=template, schema=copy)
    yield name, outside
    outside.execute(f'DROP SCHEMA "{name}" CASCADE')
    outside.execute("DELETE FROM public.tenants_schemascript WHERE template = %s", [name])
    outside.close()


def test_a_new_migration_state_of_the_template_makes_its_script_again(
    committed_template, make_workspace, replayed_only, settings, public_schema
):
    template, outside = committed_template
    settings.TENANT_BASE_SCHEMA = template
    with mock.patch.object(schema_replay, "script_dump", wraps=schema_replay.script_dump) as dump:
        before = make_workspace()
        make_workspace()
        assert dump.call_count == 1
        outside.execute(
            f"INSERT INTO {template}.django_migrations (app, name, applied) VALUES ('tenants', '9999_new', now())"
        )
        after = make_workspace()
        assert dump.call_count == 2

    connection.set_schema_to_public()
    assert ("tenants", "9999_new") not in applied_migrations(before.schema_name)
    assert ("tenants", "9999_new") in applied_migrations(after.schema_name)
    assert structure(after.schema_name) == structure(template)
    # Only the script of the template's current state is kept.
    assert SchemaScript.objects.filter(template=template).count() == 1


def test_only_the_scripts_sql_is_renamed_never_the_rows_it_copies():
    script = (
        "\\restrict abc\n-- Name: note; Type: TABLE; Schema: tenant_template\n"
        "SET lock_timeout = 0;\nCREATE TABLE tenant_template.note (body text);\n"
        "COPY tenant_template.note (body) FROM stdin;\nsee tenant_template.note\u2028twice\n\\.\n"
        "SELECT pg_catalog.setval('tenant_template.note_id_seq', 3, true);\n\\unrestrict abc\n"
    )
    sql, copy, setval = schema_replay.script_parse(script)

    def renamed(text: str) -> str:
        return schema_replay._schema_renamed(text, "tenant_template", "t_new")

    assert renamed(sql) == (
        "-- Name: note; Type: TABLE; Schema: tenant_template\n"
        "SET lock_timeout = 0;\nCREATE TABLE t_new.note (body text);\n"
    )
    assert renamed(copy.statement) == "COPY t_new.note (body) FROM stdin"
    assert copy.data == "see tenant_template.note\u2028twice\n"
    assert "setval('t_new.note_id_seq'" in renamed(setval)
