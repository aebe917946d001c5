"""Log filter that puts the schema on every record, also on lines Django writes outside the request's thread."""

from __future__ import annotations

import logging

from django.db import connection
from django_tenants.log import TenantContextFilter as ConnectionTenantFilter


class TenantContextFilter(ConnectionTenantFilter):
    """Sets `record.schema_name` and `record.domain_url`.

    django-tenants' own filter reads them from the current thread's database connection. Under ASGI
    (daphne), Django logs a response ("Not Found", "Internal Server Error") from a different thread
    whose connection sits on the public schema, so those lines said `[public]` for a workspace's
    request. Django passes the request along with them; its `tenant` (set by the tenant middleware)
    is the truth. Lines without a request fall back to the connection, as before.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        tenant = getattr(getattr(record, "request", None), "tenant", None) or connection.tenant
        record.schema_name = tenant.schema_name
        record.domain_url = getattr(tenant, "domain_url", None)
        return True
