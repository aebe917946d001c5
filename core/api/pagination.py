"""API pagination: cursors only (stable under inserts, no OFFSET scans).

`CursorPagination` is DRF's, positioned by the first ordering field plus an offset. `KeysetCursorPagination`
positions by every sort key (core/keyset.py), so sorting by a column with few values (a tier, a status) stays
exact and cheap; the view supplies the order with `keyset_order(request)`.

Both are strict about their query parameters (core/api/params.py): a `page_size` outside 1…200 or a repeated
parameter is a 400 with a sentence, not silently replaced, and both document exactly that.
"""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.utils.urls import replace_query_param

from core.keyset import paginate

from . import params


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request) -> int:
        return params.page_size(request.query_params, default=self.page_size, maximum=self.max_page_size)

    def decode_cursor(self, request):
        params.cursor(request.query_params)
        try:
            return super().decode_cursor(request)
        except NotFound:
            return None  # like the keyset cursors: an unknown cursor starts at the first page

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": parameter.name,
                "in": "query",
                "required": False,
                "description": parameter.description,
                "schema": parameter.type,
            }
            for parameter in params.pagination_parameters(default=self.page_size, maximum=self.max_page_size)
        ]


class KeysetCursorPagination(CursorPagination):
    salt = "api"
    template = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.page = paginate(
            queryset,
            order=view.keyset_order(request),
            cursor=params.cursor(request.query_params),
            page_size=self.page_size,
            salt=self.salt,
        )
        self.has_next = bool(self.page.next_cursor)
        self.has_previous = bool(self.page.prev_cursor)
        return self.page.items

    def get_next_link(self) -> str | None:
        if not self.page.next_cursor:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.page.next_cursor)

    def get_previous_link(self) -> str | None:
        if not self.page.prev_cursor:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.page.prev_cursor)
