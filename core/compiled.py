"""Queries of a few rows by id, compiled once per process.

For one row, Django's compile of a queryset can cost several times the query itself (insights reads a ticket's,
lead's, quote's or AI run's facts on every change of it). `RowsById` compiles the queryset once, with the id
condition as its last parameter, and then runs the SQL with each call's ids. Table names are left unqualified, so
the search_path picks the workspace's schema and one statement serves every workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import connection
from django.db.models import BooleanField, Model, QuerySet
from django.db.models.expressions import RawSQL


class RowsById:
    """`RowsById(Ticket, lambda of_ids: Ticket.objects.filter(of_ids).values_list(...))(ids)` → the rows of `ids`.

    `build` receives the id condition to filter on and returns the queryset (values_list: rows are tuples)."""

    def __init__(self, model: type[Model], build: Callable[[RawSQL], QuerySet]) -> None:
        self.model, self.build = model, build
        self._compiled: tuple[str, tuple] | None = None

    def __call__(self, ids: Sequence[int]) -> list[tuple]:
        sql, params = self._compiled or self._compile()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, list(ids)])
            return cursor.fetchall()

    def _compile(self) -> tuple[str, tuple]:
        of_ids = RawSQL(f'"{self.model._meta.db_table}"."id" = ANY(%s::bigint[])', ([],), output_field=BooleanField())
        sql, params = self.build(of_ids).order_by().query.sql_with_params()
        self._compiled = (sql, params[:-1])  # the ids are the last parameter: each call passes its own
        return self._compiled
