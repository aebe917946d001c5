"""Creating a workspace schema from the migrated template; used only by `tenants.services.tenant_provision`.

Replaying the template's script (tenants/schema_replay.py) comes first; cloning is the fallback.

Replaces `TenantMixin.create_schema`, which after cloning runs a fake `migrate_schemas`:
- when the template is current that run is pure overhead (loading the migration graph, recording nothing,
  post_migrate re-checking content types and permissions the clone already copied): about 200 ms of ~750;
- when it is not (code with new migrations deployed before `migrate_schemas` reached the template), the
  fake run marks the missing migrations applied without running them, and the workspace lacks tables.
Here the clone keeps the template's `django_migrations` rows, and only migrations the template lacks are
then applied, for real. django-tenants also re-creates its 4,000-line clone function before every clone
(dropping it with `DROP TYPE ... CASCADE` under any concurrent provisioning); here it is created once per
version of that SQL.
"""

from __future__ import annotations

import functools
import hashlib
import logging

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CLONE_SCHEMA_FUNCTION, CloneSchema
from django_tenants.models import TenantMixin
from django_tenants.utils import quote_schema_name, schema_exists

from .schema_replay import workspace_schema_replay

logger = logging.getLogger(__name__)

# pg-clone-schema rebuilds user-defined column types from information_schema, which drops their type modifier:
# a pgvector `vector(384)` column came out as a bare `vector`, and its HNSW index then failed ("column does not
# have dimensions"). Geometry columns already take the catalog's full definition; pgvector's types take it too.
_UPSTREAM_TYPED_COLUMNS = "ELSEIF v_colrec.udt_name in ('geometry') THEN"
assert _UPSTREAM_TYPED_COLUMNS in CLONE_SCHEMA_FUNCTION, "django-tenants' clone function changed: re-check the patch"
PATCHED_CLONE_SCHEMA_FUNCTION = CLONE_SCHEMA_FUNCTION.replace(
    _UPSTREAM_TYPED_COLUMNS, "ELSEIF v_colrec.udt_name in ('geometry', 'vector', 'halfvec', 'sparsevec') THEN"
)
CLONE_FUNCTION_VERSION = (
    "django-tenants clone_schema " + hashlib.sha256(PATCHED_CLONE_SCHEMA_FUNCTION.encode()).hexdigest()[:16]
)
# Any constant works: it serialises the first creation of the function between concurrent provisionings.
_CLONE_FUNCTION_LOCK = 7_317_001


class TemplateClone(CloneSchema):
    def _create_clone_schema_function(self) -> None:
        if _clone_function_version() == CLONE_FUNCTION_VERSION:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLONE_FUNCTION_LOCK])
            if _clone_function_version() != CLONE_FUNCTION_VERSION:
                db_user = settings.DATABASES["default"].get("USER") or "postgres"
                cursor.execute(PATCHED_CLONE_SCHEMA_FUNCTION.format(db_user=db_user))
                cursor.execute(
                    "COMMENT ON FUNCTION public.clone_schema(text, text, public.cloneparms[]) IS %s",
                    [CLONE_FUNCTION_VERSION],
                )


def _clone_function_version() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND p.proname = 'clone_schema'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def code_migration_leaves() -> frozenset[tuple[str, str]]:
    """The latest migration of every app, read from disk once per process (code only changes on restart)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def migrations_missing(schema_name: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quote_schema_name(schema_name)}.django_migrations")
        applied = set(cursor.fetchall())
    return set(code_migration_leaves()) - applied


def workspace_schema_create(tenant: TenantMixin) -> bool:
    """Makes the workspace's schema from the template: its script replayed (tenants/schema_replay.py), or cloned
    where no script can be had. False (and nothing done) if that schema already exists."""
    schema_name = tenant.schema_name
    connection.set_schema_to_public()
    if schema_exists(schema_name):
        return False
    if not workspace_schema_replay(template=tenant.get_base_schema(), schema=schema_name):
        TemplateClone().clone_schema(tenant.get_base_schema(), schema_name, tenant.clone_mode)
        constraint_names_align(template=tenant.get_base_schema(), clone=schema_name)
    missing = migrations_missing(schema_name)
    if missing:
        logger.warning(
            "template schema %s lacks %s; applying them to %s (run migrate_schemas to bring the template up to date)",
            tenant.get_base_schema(),
            sorted(missing),
            schema_name,
        )
        call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    return True


# The clone function re-creates multi-column UNIQUE constraints inline, so PostgreSQL names them itself
# ("…_key") instead of the names Django's migrations gave them ("…_uniq", a UniqueConstraint's own name).
# A later migration that drops or alters such a constraint by name would then fail in every cloned workspace.
_RENAMED_CONSTRAINTS = """
SELECT clone_table.relname, clone_constraint.conname, template_constraint.conname
FROM pg_constraint template_constraint
JOIN pg_class template_table ON template_table.oid = template_constraint.conrelid
JOIN pg_class clone_table
  ON clone_table.relname = template_table.relname AND clone_table.relnamespace = %(clone)s::regnamespace
JOIN pg_constraint clone_constraint
  ON clone_constraint.conrelid = clone_table.oid
 AND clone_constraint.contype = template_constraint.contype
 AND pg_get_constraintdef(clone_constraint.oid) = pg_get_constraintdef(template_constraint.oid)
WHERE template_constraint.connamespace = %(template)s::regnamespace
  AND clone_constraint.conname <> template_constraint.conname
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint same_name
      WHERE same_name.conrelid = clone_table.oid AND same_name.conname = template_constraint.conname
  )
"""


def constraint_names_align(*, template: str, clone: str) -> int:
    """Gives the clone's constraints the template's names; returns how many were renamed."""
    with connection.cursor() as cursor:
        cursor.execute(_RENAMED_CONSTRAINTS, {"template": template, "clone": clone})
        renames = cursor.fetchall()
        for table, clone_name, template_name in renames:
            cursor.execute(
                f"ALTER TABLE {quote_schema_name(clone)}.{quote_schema_name(table)} "
                f"RENAME CONSTRAINT {quote_schema_name(clone_name)} TO {quote_schema_name(template_name)}"
            )
    return len(renames)
