"""PostgreSQL extensions, installed once in the public schema so every workspace schema can use them."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
    ELSE
        RAISE WARNING 'pgvector is not installed on this PostgreSQL server: AI similarity search needs it';
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunSQL(CREATE, reverse_sql=migrations.RunSQL.noop)]
