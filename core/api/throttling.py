"""API rate limit per workspace and user (or per workspace and IP for anonymous calls)."""

from django.db import connection
from rest_framework.throttling import SimpleRateThrottle


class TenantUserRateThrottle(SimpleRateThrottle):
    scope = "tenant_user"

    def get_cache_key(self, request, view) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        # The cache key function adds the schema too; naming it here keeps the key readable in redis-cli.
        return f"throttle:{connection.schema_name}:{ident}"
