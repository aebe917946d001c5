"""API pagination: cursors only (stable under inserts, no OFFSET scans).

`CursorPagination` is DRF's, positioned by the first ordering field plus an offset. `KeysetCursorPagination`
positions by every sort key (core/keyset.py), so sorting by a column with few values (a tier, a status) stays
exact and cheap; the view supplies the order with `keyset_order(request)`.
"""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.utils.urls import replace_query_param

from core.keyset import paginate


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


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
            cursor=request.query_params.get(self.cursor_query_param),
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
