"""`field__ilike="text"`: substring search that PostgreSQL's pg_trgm GIN indexes can serve.

Django's `icontains` compiles to `UPPER(col) LIKE UPPER('%text%')`, an expression no trigram index on
`col` matches, so every search scanned the whole table; `col ILIKE '%text%'` uses the index.
"""

from __future__ import annotations

from django.db.models import CharField, Lookup, TextField


class ILikeContains(Lookup):
    lookup_name = "ilike"

    def get_db_prep_lookup(self, value, connection):
        return "%s", [f"%{connection.ops.prep_for_like_query(value)}%"]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


def register() -> None:
    CharField.register_lookup(ILikeContains)
    TextField.register_lookup(ILikeContains)
