"""Creating a workspace schema by cloning the migrated template; used only by `tenants.services.tenant_provision`.

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

from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CLONE_SCHEMA_FUNCTION, CloneSchema
from django_tenants.models import TenantMixin
from django_tenants.utils import quote_schema_name, schema_exists

logger = logging.getLogger(__name__)

CLONE_FUNCTION_VERSION = (
    "django-tenants clone_schema " + hashlib.sha256(CLONE_SCHEMA_FUNCTION.encode()).hexdigest()[:16]
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
                super()._create_clone_schema_function()
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
    """Clones the template into the workspace's schema; False (and nothing done) if that schema already exists."""
    schema_name = tenant.schema_name
    connection.set_schema_to_public()
    if schema_exists(schema_name):
        return False
    TemplateClone().clone_schema(tenant.get_base_schema(), schema_name, tenant.clone_mode)
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
